package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// runJSON is a run as the API shows it: trawl.Run's members, the dataset
// its items go to, and when it was queued to start.
type runJSON struct {
	trawl.Run
	Dataset string     `json:"dataset"`
	RunAt   *time.Time `json:"run_at,omitempty"`
}

// runOf shows r; runAt is when it was queued to start, zero when unknown
// or now.
func runOf(r *trawl.Run, runAt time.Time) runJSON {
	out := runJSON{Run: *r, Dataset: r.Spider}
	if out.Stats.Errors == nil {
		out.Stats.Errors = map[string]int64{}
	}
	if !runAt.IsZero() {
		t := runAt.UTC()
		out.RunAt = &t
	}
	return out
}

// runID parses the {id} of the route; a malformed one is ENOTFOUND, as no
// run has it.
func runID(r *http.Request) (int64, error) {
	s := chi.URLParam(r, "id")
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, trawl.Errorf(trawl.ENOTFOUND, "run %q not found: run ids are positive whole numbers", s)
	}
	return id, nil
}

func (s *server) getRun(w http.ResponseWriter, r *http.Request) error {
	id, err := runID(r)
	if err != nil {
		return err
	}
	run, err := s.st.Run(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, runOf(run, time.Time{}))
}

func (s *server) listRuns(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := onlyParams(q, "spider", "status", "limit", "cursor"); err != nil {
		return err
	}
	limit, err := intParam(q, "limit", defaultListLimit, maxListLimit)
	if err != nil {
		return err
	}
	pos, err := decodeCursor(q.Get("cursor"), runCursor)
	if err != nil {
		return err
	}
	var before int64
	if pos != "" {
		before, err = strconv.ParseInt(pos, 10, 64)
		if err != nil || before < 1 {
			return trawl.Errorf(trawl.EINVALID, "invalid cursor %q: use the next_cursor of a previous page, or none to start", q.Get("cursor"))
		}
	}
	runs, err := s.st.Runs(r.Context(), store.RunQuery{Spider: q.Get("spider"), Status: trawl.RunStatus(q.Get("status")),
		BeforeID: before, Limit: limit + 1})
	if err != nil {
		return err
	}
	resp := struct {
		Runs       []runJSON `json:"runs"`
		NextCursor string    `json:"next_cursor,omitempty"`
	}{Runs: []runJSON{}}
	if len(runs) > limit {
		runs = runs[:limit]
		resp.NextCursor = encodeCursor(runCursor, strconv.FormatInt(runs[limit-1].ID, 10))
	}
	for i := range runs {
		resp.Runs = append(resp.Runs, runOf(&runs[i], time.Time{}))
	}
	return writeJSON(w, http.StatusOK, resp)
}

// submitRequest is the optional body of POST /v1/spiders/{name}/runs.
type submitRequest struct {
	// RunAt is an RFC 3339 time to start the run at; absent = now.
	RunAt string `json:"run_at"`
}

func (s *server) submitRun(w http.ResponseWriter, r *http.Request) error {
	var req submitRequest
	if _, err := decodeJSONBody(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	var runAt time.Time
	if req.RunAt != "" {
		t, err := time.Parse(time.RFC3339, req.RunAt)
		if err != nil {
			return trawl.Errorf(trawl.EINVALID, "invalid run_at %q: want an RFC 3339 time like 2026-01-02T15:04:05Z", req.RunAt)
		}
		runAt = t
	}
	name := chi.URLParam(r, "name")
	// An unknown spider is not_found whatever the queue says.
	if _, err := s.st.Spider(r.Context(), name); err != nil {
		return err
	}
	run, err := s.queue.Submit(r.Context(), name, runAt)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/runs/"+strconv.FormatInt(run.ID, 10))
	return writeJSON(w, http.StatusAccepted, runOf(run, runAt))
}

func (s *server) cancelRun(w http.ResponseWriter, r *http.Request) error {
	if _, err := decodeJSONBody(w, r, s.cfg.MaxBodyBytes, &struct{}{}); err != nil {
		return err
	}
	id, err := runID(r)
	if err != nil {
		return err
	}
	run, err := s.queue.Cancel(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, runOf(run, time.Time{}))
}
