package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// progressEvent is the data of an SSE `progress` event.
type progressEvent struct {
	Run runJSON `json:"run"`
	// Rate is pages per second since the previous event (since the run
	// started, for the first one).
	Rate float64 `json:"rate"`
	// Queued is how many admitted URLs are not fetched yet.
	Queued int64 `json:"queued"`
}

// runEvents streams a run's progress as Server-Sent Events: a `progress`
// snapshot every EventInterval, read from the store, then an `end` event
// with the final run, after which the stream closes. Event ids are a
// sequence; a reconnecting client's Last-Event-ID continues it. A run that
// has finished gets `end` at once, so a client that reconnects never misses
// the final state.
func (s *server) runEvents(w http.ResponseWriter, r *http.Request) error {
	id, err := runID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	run, err := s.st.Run(ctx, id)
	if err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	// The stream outlives any write timeout of the server.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return fmt.Errorf("events of run %d: %w", id, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // tell proxies not to buffer the stream
	w.WriteHeader(http.StatusOK)

	seq := lastEventID(r)
	send := func(event string, data any) error {
		seq++
		b, err := json.Marshal(data)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		fmt.Fprintf(&buf, "id: %d\nevent: %s\ndata: %s\n\n", seq, event, b)
		if _, err := w.Write(buf.Bytes()); err != nil {
			return err
		}
		return rc.Flush()
	}

	ticker := time.NewTicker(s.cfg.EventInterval)
	defer ticker.Stop()
	prevPages, prevAt := int64(-1), time.Time{}
	for {
		if run.Status.Final() {
			return s.streamEnd(r, send("end", runOf(run, time.Time{})))
		}
		now := s.now()
		ev := progressEvent{Run: runOf(run, time.Time{}), Queued: max(run.Stats.Queued-run.Stats.Pages, 0)}
		switch {
		case prevPages >= 0 && now.After(prevAt):
			ev.Rate = float64(run.Stats.Pages-prevPages) / now.Sub(prevAt).Seconds()
		case run.StartedAt != nil && now.After(*run.StartedAt):
			ev.Rate = float64(run.Stats.Pages) / now.Sub(*run.StartedAt).Seconds()
		}
		prevPages, prevAt = run.Stats.Pages, now
		if err := send("progress", ev); err != nil {
			return s.streamEnd(r, err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
		if run, err = s.st.Run(ctx, id); err != nil {
			return s.streamEnd(r, err)
		}
	}
}

// streamEnd handles the end of an event stream whose status is sent: an
// error can no longer be answered, so it is logged, unless the client went
// away.
func (s *server) streamEnd(r *http.Request, err error) error {
	if err != nil && r.Context().Err() == nil {
		s.log.Error("event stream failed", "path", r.URL.Path, "error", err)
	}
	return nil
}

// lastEventID is the sequence number a reconnecting client saw last; 0 for
// none or one this server did not send.
func lastEventID(r *http.Request) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(r.Header.Get("Last-Event-ID")), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
