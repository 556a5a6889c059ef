package cli

import (
	"io"

	"github.com/sirupsen/logrus"
)

var (
	logFormats = []string{"text", "json"}
	logLevels  = []string{"debug", "info", "warn", "error"}
)

// newServeLogger returns the server's logger: human-readable text (colours
// on a terminal) or one JSON object per line.
func newServeLogger(w io.Writer, format, level string) *logrus.Logger {
	log := logrus.New()
	log.SetOutput(w)
	if format == "json" {
		log.SetFormatter(&logrus.JSONFormatter{TimestampFormat: "2006-01-02T15:04:05.000Z07:00"})
	} else {
		log.SetFormatter(&logrus.TextFormatter{FullTimestamp: true, TimestampFormat: "2006-01-02 15:04:05.000"})
	}
	lvl, err := logrus.ParseLevel(level)
	if err != nil {
		lvl = logrus.InfoLevel
	}
	log.SetLevel(lvl)
	return log
}
