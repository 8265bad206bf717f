package proxy

import (
	"fmt"
	"io"
	"log/slog"
	"os"
)

// NewAccessLogger builds the access logger the config asks for. It returns nil when the
// access log is off, and an io.Closer for a file output (nil otherwise).
func NewAccessLogger(c AccessLogConfig, stdout, stderr io.Writer) (*slog.Logger, io.Closer, error) {
	var w io.Writer
	var closer io.Closer
	switch c.Output {
	case "off":
		return nil, nil, nil
	case "", "stdout":
		w = stdout
	case "stderr":
		w = stderr
	default:
		f, err := os.OpenFile(c.Output, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
		if err != nil {
			return nil, nil, fmt.Errorf("access log: %w", err)
		}
		w, closer = f, f
	}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil)), closer, nil
	}
	return slog.New(slog.NewTextHandler(w, nil)), closer, nil
}
