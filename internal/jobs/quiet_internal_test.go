package jobs

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestQuieterKeepsWarnings: River's INFO chatter is dropped from serve's
// log, its warnings and errors are kept, with attributes and groups.
func TestQuieterKeepsWarnings(t *testing.T) {
	var buf bytes.Buffer
	log := quieter(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	log.Info("Applied migration", "version", 1)
	log.With("client", "c1").WithGroup("g").Warn("slow poll", "ms", 900)
	log.Error("lost leadership")
	out := buf.String()
	if strings.Contains(out, "Applied migration") {
		t.Errorf("INFO kept:\n%s", out)
	}
	for _, want := range []string{"slow poll", "client=c1", "g.ms=900", "lost leadership"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
