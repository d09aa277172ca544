package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// TestCancelAndEvents: cancelling a running run ends its event stream with
// the canceled run; a reconnecting client gets that end at once, whatever
// its Last-Event-ID; a client reconnecting to a running run continues the
// id sequence; a client that goes away ends its stream on the server.
func TestCancelAndEvents(t *testing.T) {
	t.Parallel()
	site := newQuoteSite(t) // its second page is held: runs stay running
	b := setup(t, nil)
	b.do(t, "PUT", "/v1/spiders/quotes", spiderYAML("quotes", site.URL), "Content-Type", "application/yaml").mustJSON(t, 201, nil)
	var run runJSON
	b.do(t, "POST", "/v1/spiders/quotes/runs", "").mustJSON(t, 202, &run)

	res, br := b.openEvents(t, run.ID, "")
	if ev, err := readEvent(br); err != nil || ev.name != "progress" || ev.id != "1" {
		t.Fatalf("first event %+v, %v", ev, err)
	}
	var canceled runJSON
	b.do(t, "POST", fmt.Sprintf("/v1/runs/%d/cancel", run.ID), "").mustJSON(t, 202, &canceled)
	if canceled.Status != trawl.RunCanceled || canceled.FinishedAt == nil {
		t.Errorf("canceled run = %+v", canceled)
	}
	for i := 0; ; i++ {
		if i > 1000 {
			t.Fatal("no end event after the cancel")
		}
		ev, err := readEvent(br)
		if err != nil {
			t.Fatalf("event: %v", err)
		}
		if ev.name != "end" {
			continue
		}
		var r runJSON
		if err := json.Unmarshal([]byte(ev.data), &r); err != nil || r.Status != trawl.RunCanceled {
			t.Fatalf("end = %s, %v; want the canceled run", ev.data, err)
		}
		break
	}
	res.Body.Close()
	b.do(t, "POST", fmt.Sprintf("/v1/runs/%d/cancel", run.ID), "").mustProblem(t, 409, "conflict")

	for _, last := range []string{"7", "not-a-number"} {
		res, br := b.openEvents(t, run.ID, last)
		ev, err := readEvent(br)
		if err != nil || ev.name != "end" {
			t.Fatalf("Last-Event-ID %s: first event %+v, %v; want end", last, ev, err)
		}
		if want := map[string]string{"7": "8", "not-a-number": "1"}[last]; ev.id != want {
			t.Errorf("Last-Event-ID %s: end id %q, want %q", last, ev.id, want)
		}
		if _, err := readEvent(br); err != io.EOF {
			t.Errorf("after end: %v, want the stream closed", err)
		}
		res.Body.Close()
	}

	// A second run, running: a reconnect continues the sequence, and a
	// client going away ends the stream on the server.
	b.do(t, "POST", "/v1/spiders/quotes/runs", "").mustJSON(t, 202, &run)
	res, br = b.openEvents(t, run.ID, "41")
	ev, err := readEvent(br)
	if err != nil || ev.name != "progress" || ev.id != "42" {
		t.Fatalf("reconnect to a running run: first event %+v, %v; want progress 42", ev, err)
	}
	res.Body.Close()
	b.logs.waitFor(t, fmt.Sprintf("method=GET path=/v1/runs/%d/events status=200", run.ID))
}
