// Package logging builds the log/slog loggers of trawl's commands: text or
// JSON lines at a chosen level, so that trawl serve, trawl run and trawl
// worker log the same way.
package logging

import (
	"io"
	"log/slog"
	"strings"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// Formats of New.
const (
	Text = "text" // logfmt-like key=value lines, for people
	JSON = "json" // one JSON object per line, for log collectors
)

// New returns a logger writing to w in format (text or json, ignoring
// case) the messages of level (debug, info, warn or error) and above.
// Returns EINVALID naming the valid values for anything else.
func New(w io.Writer, format, level string) (*slog.Logger, error) {
	l, err := ParseLevel(level)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: l}
	switch strings.ToLower(strings.TrimSpace(format)) {
	case Text, "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case JSON:
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, trawl.Errorf(trawl.EINVALID, "invalid log format %q: use text or json", format)
}

// ParseLevel returns the level named s: debug, info, warn (or warning) or
// error, ignoring case. Returns EINVALID for anything else.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, trawl.Errorf(trawl.EINVALID, "invalid log level %q: use debug, info, warn or error", s)
}
