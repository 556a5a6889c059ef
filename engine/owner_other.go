//go:build !unix

package engine

import "os"

// fileOwner returns -1: files have no owner ID here (see [privateToUser]).
func fileOwner(os.FileInfo) int { return -1 }
