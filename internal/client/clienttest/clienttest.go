// Package clienttest is a test double of trawl's HTTP API v1 for the tests
// of its clients: a real HTTP server on loopback that keeps spiders, runs
// and items in memory and answers with the JSON shapes and problem+json
// errors of docs/api.md. It is not the server (internal/api): it has no
// queue, no crawler and no database, and a run's events are scripted by
// the test.
package clienttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// Server is the double. Its fields other than the embedded server are
// guarded by its lock: use the methods.
type Server struct {
	*httptest.Server
	token string

	mu       sync.Mutex
	now      time.Time
	spiders  map[string]*storedSpider
	runs     []*run
	datasets map[string]*dataset
	requests []string
}

type storedSpider struct {
	Name      string    `json:"name"`
	Format    string    `json:"format"`
	Source    string    `json:"source"`
	Hash      string    `json:"hash"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Schedule  string    `json:"schedule,omitempty"`
}

type run struct {
	trawl.Run
	RunAt   *time.Time `json:"run_at,omitempty"`
	Dataset string     `json:"dataset"`
	events  []Event
}

type dataset struct {
	columns []string
	items   []json.RawMessage
}

// Event is a scripted event of a run's stream: progress with the run's
// stats, or the end with its final status.
type Event struct {
	Type   string // progress or end
	Stats  trawl.RunStats
	Status trawl.RunStatus // of the run as of the event
	Error  string
	Rate   float64
	// Drop closes the connection after this event, once, so that the
	// client has to reconnect with Last-Event-ID.
	Drop bool
}

// New starts the double; with a non-empty token every /v1 route requires
// it as a bearer token. It is closed when the test ends.
func New(t testing.TB, token string) *Server {
	t.Helper()
	s := &Server{token: token, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		spiders: map[string]*storedSpider{}, datasets: map[string]*dataset{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/spiders", s.listSpiders)
	mux.HandleFunc("GET /v1/spiders/{name}", s.getSpider)
	mux.HandleFunc("PUT /v1/spiders/{name}", s.putSpider)
	mux.HandleFunc("DELETE /v1/spiders/{name}", s.deleteSpider)
	mux.HandleFunc("POST /v1/spiders/{name}/runs", s.startRun)
	mux.HandleFunc("GET /v1/runs", s.listRuns)
	mux.HandleFunc("GET /v1/runs/{id}", s.getRun)
	mux.HandleFunc("POST /v1/runs/{id}/cancel", s.cancelRun)
	mux.HandleFunc("GET /v1/runs/{id}/events", s.events)
	mux.HandleFunc("GET /v1/datasets", s.listDatasets)
	mux.HandleFunc("GET /v1/datasets/{name}/items", s.items)
	mux.HandleFunc("GET /v1/datasets/{name}/items.csv", s.items)
	mux.HandleFunc("GET /v1/datasets/{name}/items.jsonl", s.items)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Method+" "+r.URL.RequestURI())
		s.mu.Unlock()
		if s.token != "" && r.Header.Get("Authorization") != "Bearer "+s.token {
			problem(w, http.StatusUnauthorized, trawl.EUNAUTHORIZED, "missing or wrong bearer token", nil)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// Requests returns "METHOD /path?query" of every request so far.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// PutSpider stores a spider as PUT would, for a test's set-up.
func (s *Server) PutSpider(t testing.TB, source string) {
	t.Helper()
	sp, err := spider.Parse("setup", []byte(source))
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store(sp, "yaml", source)
}

// SpiderSource returns the stored source of name, and whether it exists.
func (s *Server) SpiderSource(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp, ok := s.spiders[name]
	if !ok {
		return "", false
	}
	return sp.Source, true
}

// SpiderNames returns the stored spiders' names in order.
func (s *Server) SpiderNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for n := range s.spiders {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// AddRun adds a run with the given status and stats and the events its
// stream will send, and returns its id.
func (s *Server) AddRun(spiderName string, status trawl.RunStatus, stats trawl.RunStats, events ...Event) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.newRun(spiderName, status)
	r.Stats, r.events = stats, events
	return r.ID
}

// AddItems adds items (JSON objects) to the dataset, creating it with
// columns.
func (s *Server) AddItems(name string, columns []string, items ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.datasets[name]
	if d == nil {
		d = &dataset{columns: columns}
		s.datasets[name] = d
	}
	for _, it := range items {
		d.items = append(d.items, json.RawMessage(it))
	}
}

func (s *Server) newRun(spiderName string, status trawl.RunStatus) *run {
	s.now = s.now.Add(time.Minute)
	r := &run{Run: trawl.Run{ID: int64(len(s.runs) + 1), Spider: spiderName, Status: status, CreatedAt: s.now, Stats: trawl.RunStats{Errors: map[string]int64{}}}, Dataset: spiderName}
	if status != trawl.RunQueued {
		started := s.now
		r.StartedAt = &started
	}
	s.runs = append(s.runs, r)
	return r
}

func (s *Server) store(sp *spider.Spider, format, source string) (*storedSpider, int) {
	s.now = s.now.Add(time.Second)
	old := s.spiders[sp.Name]
	switch {
	case old == nil:
		s.spiders[sp.Name] = &storedSpider{Name: sp.Name, Format: format, Source: source, Hash: sp.Hash, Version: 1, CreatedAt: s.now, UpdatedAt: s.now, Schedule: sp.Schedule}
		return s.spiders[sp.Name], http.StatusCreated
	case old.Source == source && old.Format == format:
		return old, http.StatusOK
	}
	old.Format, old.Source, old.Hash, old.Schedule, old.UpdatedAt = format, source, sp.Hash, sp.Schedule, s.now
	old.Version++
	return old, http.StatusOK
}

// problem writes a problem+json answer.
func problem(w http.ResponseWriter, status int, code, detail string, problems []spider.Problem) {
	doc := map[string]any{"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail, "code": code}
	if problems != nil {
		doc["errors"] = problems
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(doc)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		problem(w, http.StatusInternalServerError, trawl.EINTERNAL, "internal error", nil)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// limit reads ?limit=, default def, at most 1000.
func limit(r *http.Request, def int) (int, bool) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 1 && n <= 1000
}

func (s *Server) listSpiders(w http.ResponseWriter, r *http.Request) {
	n, ok := limit(r, 100)
	if !ok {
		problem(w, http.StatusBadRequest, trawl.EINVALID, "limit must be 1 to 1000", nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for name := range s.spiders {
		if name > r.URL.Query().Get("cursor") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	out := map[string]any{"spiders": []any{}}
	list := []any{}
	for i, name := range names {
		if i == n {
			out["next_cursor"] = names[i-1]
			break
		}
		list = append(list, s.spiders[name])
	}
	out["spiders"] = list
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getSpider(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp, ok := s.spiders[r.PathValue("name")]
	if !ok {
		problem(w, http.StatusNotFound, trawl.ENOTFOUND, fmt.Sprintf("spider %s not found", r.PathValue("name")), nil)
		return
	}
	writeJSON(w, http.StatusOK, sp)
}

func (s *Server) putSpider(w http.ResponseWriter, r *http.Request) {
	var body bytes.Buffer
	if _, err := body.ReadFrom(http.MaxBytesReader(w, r.Body, 1<<20)); err != nil {
		problem(w, http.StatusRequestEntityTooLarge, trawl.EINVALID, "spider too large", nil)
		return
	}
	format := "yaml"
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
		format = "json"
	}
	name := r.PathValue("name")
	sp, err := spider.Parse(name, body.Bytes())
	if ve, ok := err.(*spider.ValidationError); ok {
		problem(w, http.StatusUnprocessableEntity, "invalid_spider", fmt.Sprintf("spider %s has %d problem(s)", name, len(ve.Problems)), ve.Problems)
		return
	} else if err != nil {
		problem(w, http.StatusInternalServerError, trawl.EINTERNAL, "internal error", nil)
		return
	}
	if sp.Name != name {
		problem(w, http.StatusUnprocessableEntity, "invalid_spider", fmt.Sprintf("the spider's name %q differs from %q in the URL", sp.Name, name),
			[]spider.Problem{{Path: "name", Line: 1, Column: 1, Message: fmt.Sprintf("name %q differs from %q in the URL", sp.Name, name)}})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, status := s.store(sp, format, body.String())
	writeJSON(w, status, stored)
}

func (s *Server) deleteSpider(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := r.PathValue("name")
	if _, ok := s.spiders[name]; !ok {
		problem(w, http.StatusNotFound, trawl.ENOTFOUND, fmt.Sprintf("spider %s not found", name), nil)
		return
	}
	delete(s.spiders, name)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) startRun(w http.ResponseWriter, r *http.Request) {
	var body struct {
		RunAt *time.Time `json:"run_at"`
	}
	if r.ContentLength != 0 {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			problem(w, http.StatusBadRequest, trawl.EINVALID, "invalid JSON body: "+err.Error(), nil)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	name := r.PathValue("name")
	if _, ok := s.spiders[name]; !ok {
		problem(w, http.StatusNotFound, trawl.ENOTFOUND, fmt.Sprintf("spider %s not found", name), nil)
		return
	}
	for _, old := range s.runs {
		if old.Spider == name && !old.Status.Final() {
			problem(w, http.StatusConflict, trawl.ECONFLICT, fmt.Sprintf("spider %s already has run %d %s", name, old.ID, old.Status), nil)
			return
		}
	}
	run := s.newRun(name, trawl.RunQueued)
	run.RunAt = body.RunAt
	writeJSON(w, http.StatusAccepted, run)
}

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request) {
	n, ok := limit(r, 50)
	if !ok {
		problem(w, http.StatusBadRequest, trawl.EINVALID, "limit must be 1 to 1000", nil)
		return
	}
	q := r.URL.Query()
	before := int64(1 << 62)
	if c := q.Get("cursor"); c != "" {
		id, err := strconv.ParseInt(c, 10, 64)
		if err != nil {
			problem(w, http.StatusBadRequest, trawl.EINVALID, "invalid cursor", nil)
			return
		}
		before = id
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []any{}
	out := map[string]any{}
	for i := len(s.runs) - 1; i >= 0; i-- {
		run := s.runs[i]
		if run.ID >= before || q.Get("spider") != "" && run.Spider != q.Get("spider") || q.Get("status") != "" && string(run.Status) != q.Get("status") {
			continue
		}
		if len(list) == n {
			out["next_cursor"] = strconv.FormatInt(run.ID+1, 10)
			break
		}
		list = append(list, run)
	}
	out["runs"] = list
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) run(w http.ResponseWriter, r *http.Request) *run {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 || id > int64(len(s.runs)) {
		problem(w, http.StatusNotFound, trawl.ENOTFOUND, fmt.Sprintf("run %s not found", r.PathValue("id")), nil)
		return nil
	}
	return s.runs[id-1]
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if run := s.run(w, r); run != nil {
		writeJSON(w, http.StatusOK, run)
	}
}

func (s *Server) cancelRun(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	run := s.run(w, r)
	switch {
	case run == nil:
		return
	case run.Status.Final():
		problem(w, http.StatusConflict, trawl.ECONFLICT, fmt.Sprintf("run %d already %s", run.ID, run.Status), nil)
		return
	}
	s.now = s.now.Add(time.Second)
	end := s.now
	run.Status, run.FinishedAt = trawl.RunCanceled, &end
	writeJSON(w, http.StatusAccepted, run)
}

// events sends the run's scripted events after Last-Event-ID (event ids
// are 1, 2, ... in script order), or the run's end at once when it is
// finished and has no script. An event with Drop ends the connection
// after it, the first time.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	run := s.run(w, r)
	if run == nil {
		s.mu.Unlock()
		return
	}
	snapshot := run.Run
	script := slices.Clone(run.events)
	s.mu.Unlock()
	if len(script) == 0 && snapshot.Status.Final() {
		script = []Event{{Type: "end", Stats: snapshot.Stats, Status: snapshot.Status, Error: snapshot.Error}}
	}
	from := 0
	if last := r.Header.Get("Last-Event-ID"); last != "" {
		from, _ = strconv.Atoi(last)
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprint(w, "retry: 10\n: hello\n\n")
	for i := from; i < len(script); i++ {
		ev := script[i]
		state := snapshot
		state.Stats, state.Status, state.Error = ev.Stats, ev.Status, ev.Error
		if ev.Status.Final() {
			end := state.CreatedAt.Add(time.Minute)
			state.FinishedAt = &end
		}
		var data []byte
		if ev.Type == "end" {
			data, _ = json.Marshal(run.withRun(state))
		} else {
			data, _ = json.Marshal(map[string]any{"run": run.withRun(state), "rate": ev.Rate, "queued": ev.Stats.Queued - ev.Stats.Pages})
		}
		fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", i+1, ev.Type, data)
		w.(http.Flusher).Flush()
		if ev.Type == "end" {
			return
		}
		if ev.Drop {
			s.mu.Lock()
			run.events[i].Drop = false
			s.mu.Unlock()
			return
		}
	}
}

func (r *run) withRun(state trawl.Run) *run {
	c := *r
	c.Run = state
	return &c
}

func (s *Server) listDatasets(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for n := range s.datasets {
		names = append(names, n)
	}
	sort.Strings(names)
	list := []any{}
	for _, n := range names {
		d := s.datasets[n]
		list = append(list, map[string]any{"name": n, "columns": d.columns, "items": len(d.items), "last_run": 0, "updated_at": s.now})
	}
	writeJSON(w, http.StatusOK, map[string]any{"datasets": list})
}
