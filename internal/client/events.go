package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Event types of a run's event stream.
const (
	EventProgress = "progress" // about once a second while the run is queued or running
	EventEnd      = "end"      // once, with the run's final state; the stream ends after it
)

// Event is one event of a run's stream (GET /v1/runs/{id}/events).
type Event struct {
	ID   string // the server's sequence number, sent back as Last-Event-ID on a reconnect
	Type string // EventProgress or EventEnd
	Run  Run    // the run as of the event
	// Rate is the run's pages per second and Queued the URLs waiting in its
	// frontier; both only in progress events.
	Rate   float64
	Queued int64
}

// Reconnection policy of WatchRun.
const (
	defaultRetry    = time.Second      // before the server says otherwise with retry:
	maxRetry        = 30 * time.Second // the longest wait between two attempts
	maxEventLine    = 4 << 20          // a longer line of the stream is an error
	maxReconnects   = 10               // attempts in a row that brought no event
	eventStreamType = "text/event-stream"
)

// WatchRun follows the events of run id, calling fn (which may be nil)
// with each progress and end event in order, and returns the run's final
// state from its end event. When the stream breaks before the end, it
// reconnects with Last-Event-ID after the server's retry: delay (1s until
// the server sets one, doubling while attempts fail, at most 30s) so that
// the end is never missed; it gives up after 10 attempts in a row that
// brought no event. An error answer of the server other than a 5xx (an
// unknown run, a bad token) ends the watch at once. Canceling ctx ends it
// with ctx's cause.
func (c *Client) WatchRun(ctx context.Context, id int64, fn func(Event)) (*Run, error) {
	s := &eventStream{retry: defaultRetry, fn: fn}
	failures := 0
	for {
		final, err := c.streamEvents(ctx, id, s)
		switch {
		case final != nil:
			return final, nil
		case ctx.Err() != nil:
			return nil, context.Cause(ctx)
		}
		var apiErr *Error
		if errors.As(err, &apiErr) && apiErr.Status < 500 || errors.Is(err, errBadStream) {
			return nil, fmt.Errorf("events of run %d: %w", id, err)
		}
		if s.progressed {
			failures, s.progressed = 0, false
		}
		failures++
		if failures >= maxReconnects {
			return nil, fmt.Errorf("events of run %d: %w (gave up after %d attempts)", id, err, failures)
		}
		wait := min(s.retry<<(failures-1), maxRetry)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, context.Cause(ctx)
		case <-t.C:
		}
	}
}

// errBadStream marks answers that no reconnect can mend: not an event
// stream, or an event the client cannot read.
var errBadStream = errors.New("bad event stream")

// eventStream is the state a watch keeps across connections.
type eventStream struct {
	lastID     string
	retry      time.Duration
	progressed bool // an event arrived since the last failure
	fn         func(Event)
}

// streamEvents reads one connection's events; it returns the final run at
// the end event, or why the connection ended without it.
func (c *Client) streamEvents(ctx context.Context, id int64, s *eventStream) (*Run, error) {
	h := http.Header{}
	if s.lastID != "" {
		h.Set("Last-Event-ID", s.lastID)
	}
	resp, err := c.send(ctx, request{method: http.MethodGet, path: runPath(id) + "/events", accept: eventStreamType, header: h})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != eventStreamType {
		return nil, fmt.Errorf("%w: the server answered %q, not %s", errBadStream, mt, eventStreamType)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), maxEventLine)
	var typ string
	var data bytes.Buffer
	// The id of an event counts once the event is complete: a connection
	// cut in the middle of an event must ask for that event again.
	idBuf := s.lastID
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" { // the blank line dispatches the event
			s.lastID = idBuf
			run, err := s.dispatch(typ, data.Bytes())
			if run != nil || err != nil {
				return run, err
			}
			typ = ""
			data.Reset()
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "": // a comment, such as a keep-alive
		case "event":
			typ = value
		case "data":
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(value)
		case "id":
			if !strings.Contains(value, "\x00") {
				idBuf = value
			}
		case "retry":
			if ms, err := strconv.Atoi(value); err == nil && ms >= 0 {
				s.retry = min(time.Duration(ms)*time.Millisecond, maxRetry)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return nil, io.ErrUnexpectedEOF // closed before the end event
}

// dispatch decodes one event and hands it to fn; it returns the final run
// for the end event.
func (s *eventStream) dispatch(typ string, data []byte) (*Run, error) {
	var ev Event
	switch typ {
	case EventProgress:
		var p struct {
			Run    Run     `json:"run"`
			Rate   float64 `json:"rate"`
			Queued int64   `json:"queued"`
		}
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, fmt.Errorf("%w: progress event: %v", errBadStream, err)
		}
		ev = Event{Run: p.Run, Rate: p.Rate, Queued: p.Queued}
	case EventEnd:
		if err := json.Unmarshal(data, &ev.Run); err != nil {
			return nil, fmt.Errorf("%w: end event: %v", errBadStream, err)
		}
	default:
		return nil, nil // a comment-only block, or an event this client does not know: skipped
	}
	ev.ID, ev.Type = s.lastID, typ
	s.progressed = true
	if s.fn != nil {
		s.fn(ev)
	}
	if typ == EventEnd {
		return &ev.Run, nil
	}
	return nil, nil
}
