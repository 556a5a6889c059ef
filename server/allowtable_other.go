//go:build !linux

package server

import "github.com/rampart-dev/rampart/engine"

// allowTable is Linux only (the preload library is); elsewhere the
// server publishes nothing.
type allowTable struct{}

func (*allowTable) publish(prog *engine.Program, key []byte, d engine.Decision) {}
func (*allowTable) reset(prog *engine.Program)                                  {}
func (s *Server) startAllowTable(sock string)                                   {}
func (s *Server) stopAllowTable()                                               {}
