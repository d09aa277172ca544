package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/crawl"
	"github.com/trawl-dev/trawl/internal/trawl"
)

func TestProgressLine(t *testing.T) {
	stats := trawl.RunStats{Pages: 3, Queued: 10, Items: 7, Errors: map[string]int64{"http_5xx": 2}}
	for _, tty := range []bool{true, false} {
		var buf bytes.Buffer
		p := &progress{w: &buf, tty: tty, started: time.Now().Add(-time.Second), stats: trawl.RunStats{}}
		p.update(crawl.Progress{Stats: stats})
		p.print()
		p.print()
		out := buf.String()
		if !strings.Contains(out, "pages 3/10  items 7  errors 2  ") {
			t.Errorf("tty=%v: progress %q lacks the counters", tty, out)
		}
		// A terminal gets the line redrawn in place; a log gets whole lines.
		if tty != strings.Contains(out, "\r\033[K") || tty == strings.Contains(out, "\n") {
			t.Errorf("tty=%v: progress %q", tty, out)
		}
	}
}

// TestProgressLineRemote: trawl runs watch prints trawl run's line from a
// server's progress events: the server's rate, the time since the run
// started there.
func TestProgressLineRemote(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, started: time.Now()}
	started := time.Now().Add(-90 * time.Second)
	p.updateRemote(trawl.RunStats{Pages: 40, Queued: 100, Items: 80, Errors: map[string]int64{"timeout": 1}}, 3.25, &started)
	p.print()
	if got, want := buf.String(), "pages 40/100  items 80  errors 1  3.2 pages/s  1m30s\n"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
}
