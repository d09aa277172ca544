package logging_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/trawl-dev/trawl/internal/logging"
	"github.com/trawl-dev/trawl/internal/trawl"
)

func TestNew(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	l, err := logging.New(&b, "JSON", "warn")
	if err != nil {
		t.Fatal(err)
	}
	l.Info("hidden")
	l.Warn("shown", "run", 7)
	var rec map[string]any
	if err := json.Unmarshal(b.Bytes(), &rec); err != nil {
		t.Fatalf("want one JSON line, got %q: %v", b.String(), err)
	}
	if rec["msg"] != "shown" || rec["level"] != "WARN" || rec["run"] != float64(7) {
		t.Errorf("record = %v", rec)
	}

	b.Reset()
	l, err = logging.New(&b, "text", "debug")
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("step", "host", "example.com")
	if got := b.String(); !strings.Contains(got, "level=DEBUG msg=step host=example.com") {
		t.Errorf("text line = %q", got)
	}
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ format, level, want string }{
		{"xml", "info", `invalid log format "xml": use text or json`},
		{"text", "loud", `invalid log level "loud": use debug, info, warn or error`},
	} {
		_, err := logging.New(&bytes.Buffer{}, tt.format, tt.level)
		if trawl.ErrorCode(err) != trawl.EINVALID || trawl.ErrorMessage(err) != tt.want {
			t.Errorf("New(%q, %q) = %v; want invalid %q", tt.format, tt.level, err, tt.want)
		}
	}
}
