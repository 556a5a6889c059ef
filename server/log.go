package server

import (
	"log"
	"strings"

	"github.com/sirupsen/logrus"
)

// newStdLogger routes net/http's own messages (TLS handshakes, panics in
// handlers, accept errors) into the structured log as warnings.
func newStdLogger(l *logrus.Logger) *log.Logger {
	return log.New(logWriter{l}, "", 0)
}

type logWriter struct{ l *logrus.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.l.WithField("component", "http").Warn(strings.TrimSpace(string(p)))
	return len(p), nil
}
