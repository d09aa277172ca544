package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/api"
	"github.com/trawl-dev/trawl/internal/crawl"
	"github.com/trawl-dev/trawl/internal/fetch"
	"github.com/trawl-dev/trawl/internal/robots"
	"github.com/trawl-dev/trawl/internal/runner"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/store/sqlite"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// quoteSite is a two-page quotes website. The second page answers only
// once release is closed (or its request is canceled), so a test can watch
// a run while it is running.
type quoteSite struct {
	*httptest.Server
	release chan struct{}
	once    sync.Once
}

// quotes of the site: page 1, then page 2.
var siteQuotes = [][]struct{ text, author, tags string }{
	{
		{"Imagination is more important than knowledge.", "Albert Einstein", "imagination knowledge"},
		{"It is a truth universally acknowledged.", "Jane Austen", "life books"},
		{"Life is like riding a bicycle.", "albert einstein", "life"},
	},
	{
		{"Be yourself; everyone else is already taken.", "Oscar Wilde", "life honesty"},
		{"A room without books is like a body without a soul.", "Marcus Tullius Cicero", "books"},
		{"Two things are infinite.", "ALBERT EINSTEIN", "humor"},
	},
}

func newQuoteSite(t *testing.T) *quoteSite {
	t.Helper()
	s := &quoteSite{release: make(chan struct{})}
	page := func(w http.ResponseWriter, n int) {
		var b strings.Builder
		b.WriteString("<html><body>")
		for _, q := range siteQuotes[n] {
			fmt.Fprintf(&b, `<div class="quote"><span class="text">%s</span><small class="author">%s</small>`, q.text, q.author)
			for tag := range strings.FieldsSeq(q.tags) {
				fmt.Fprintf(&b, `<a class="tag">%s</a>`, tag)
			}
			b.WriteString("</div>")
		}
		if n == 0 {
			b.WriteString(`<a class="next" href="/page/2/">next</a>`)
		}
		b.WriteString("</body></html>")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, b.String())
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			page(w, 0)
		case "/page/2/":
			select {
			case <-s.release:
				page(w, 1)
			case <-r.Context().Done():
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	t.Cleanup(s.Release) // before Close: a held request would block it
	return s
}

// Release lets the second page answer.
func (s *quoteSite) Release() { s.once.Do(func() { close(s.release) }) }

// spiderYAML is the quotes spider of site, named name.
func spiderYAML(name, base string) string {
	return fmt.Sprintf(`name: %s
start_urls: [%q]
follow: [{css: a.next}]
items:
  - css: div.quote
    fields:
      text: span.text
      author: small.author
      tags: {css: a.tag, all: true}
    key: [text]
politeness: {robots: ignore, delay: 0s}
fetch: {retries: 0}
`, name, base+"/")
}

// crawlQueue is a test double of the service's job queue (internal/jobs,
// which api.Queue stands for): Submit starts the run at once in this
// process with the real runner and engine, Cancel cancels it with the
// cause the runner maps to canceled, and SyncSchedule records its calls.
// It does no queuing, run_at or scheduling, which are the jobs package's.
type crawlQueue struct {
	st     store.Store
	engine *crawl.Engine

	mu      sync.Mutex
	cancels map[int64]context.CancelCauseFunc
	done    map[int64]chan struct{}
	synced  []string
	wg      sync.WaitGroup
}

var _ api.Queue = (*crawlQueue)(nil)

func newCrawlQueue(t *testing.T, st store.Store) *crawlQueue {
	t.Helper()
	fc := fetch.New(fetch.Config{})
	t.Cleanup(fc.Close)
	q := &crawlQueue{
		st:      st,
		engine:  crawl.New(st, fc, robots.New(fc, robots.Config{}), crawl.Config{Concurrency: 2}),
		cancels: map[int64]context.CancelCauseFunc{},
		done:    map[int64]chan struct{}{},
	}
	t.Cleanup(func() {
		q.mu.Lock()
		for _, c := range q.cancels {
			c(trawl.ErrShutdown)
		}
		q.mu.Unlock()
		q.wg.Wait()
	})
	return q
}

func (q *crawlQueue) Submit(ctx context.Context, name string, _ time.Time) (*trawl.Run, error) {
	stored, err := q.st.Spider(ctx, name)
	if err != nil {
		return nil, err
	}
	sp, err := spider.Parse(name, stored.Source)
	if err != nil {
		return nil, err
	}
	active, err := q.st.Runs(ctx, store.RunQuery{Spider: name, Status: trawl.RunRunning})
	if err != nil {
		return nil, err
	}
	if len(active) > 0 {
		return nil, trawl.Errorf(trawl.ECONFLICT, "spider %s already has run %d running", name, active[0].ID)
	}
	r, err := runner.Start(ctx, q.st, sp, runner.Options{Restart: true})
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancelCause(context.Background())
	done := make(chan struct{})
	q.mu.Lock()
	q.cancels[r.ID()], q.done[r.ID()] = cancel, done
	q.mu.Unlock()
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		defer close(done)
		defer r.Close()
		res, runErr := r.Crawl(runCtx, q.engine, nil)
		r.Finish(runCtx, res, runErr)
	}()
	return r.Initial, nil
}

func (q *crawlQueue) Cancel(ctx context.Context, id int64) (*trawl.Run, error) {
	run, err := q.st.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	if run.Status.Final() {
		return nil, trawl.Errorf(trawl.ECONFLICT, "run %d already finished (%s)", id, run.Status)
	}
	q.mu.Lock()
	cancel, done := q.cancels[id], q.done[id]
	q.mu.Unlock()
	if cancel == nil {
		return nil, fmt.Errorf("run %d is not this queue's", id)
	}
	cancel(trawl.ErrRunCanceled)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		return nil, errors.New("run did not stop within 10s")
	}
	return q.st.Run(ctx, id)
}

func (q *crawlQueue) SyncSchedule(_ context.Context, name string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.synced = append(q.synced, name)
	return nil
}

// Synced returns the spiders SyncSchedule was called with.
func (q *crawlQueue) Synced() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]string(nil), q.synced...)
}

// bundle is an API server over a real SQLite store on loopback.
type bundle struct {
	db     *sqlite.DB
	queue  *crawlQueue
	srv    *httptest.Server
	client *http.Client
	valid  *validator
	logs   *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes;
// wrote is signalled after each write.
type syncBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	wrote chan struct{}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		select {
		case s.wrote <- struct{}{}:
		default:
		}
	}()
	return s.b.Write(p)
}

// waitFor waits until the log contains want, for at most 10 s.
func (s *syncBuffer) waitFor(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for !strings.Contains(s.String(), want) {
		select {
		case <-s.wrote:
		case <-timeout:
			t.Fatalf("the log has no %q after 10s:\n%s", want, s.String())
		}
	}
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// setup starts the API; edit may change its config. Every JSON response
// the tests receive is validated against the OpenAPI document.
func setup(t *testing.T, edit func(*api.Config)) *bundle {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "trawl.db"), sqlite.Config{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	b := &bundle{db: db, queue: newCrawlQueue(t, db), logs: &syncBuffer{wrote: make(chan struct{}, 1)}}
	cfg := api.Config{
		Store: db, Queue: b.queue, EventInterval: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&cfg)
	}
	h, err := api.New(cfg)
	if err != nil {
		t.Fatalf("api.New: %v", err)
	}
	b.srv = httptest.NewServer(h)
	t.Cleanup(b.srv.Close)
	b.valid = newValidator(t, h, cfg.Token)
	b.client = &http.Client{Transport: b.valid, Timeout: 30 * time.Second}
	return b
}

// resp is a response read whole.
type resp struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; header is pairs of name, value.
func (b *bundle) do(t *testing.T, method, path string, body string, header ...string) resp {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, b.srv.URL+path, rd)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := b.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: data}
}

// mustJSON checks the status and decodes the JSON body into v.
func (r resp) mustJSON(t *testing.T, status int, v any) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q, want application/json", ct)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("decode %s: %v", r.body, err)
		}
	}
}

// problem is the problem+json document of the API.
type problem struct {
	Type   string           `json:"type"`
	Title  string           `json:"title"`
	Status int              `json:"status"`
	Detail string           `json:"detail"`
	Code   string           `json:"code"`
	Errors []spider.Problem `json:"errors"`
}

// mustProblem checks that r is a problem with status and code, and returns it.
func (r resp) mustProblem(t *testing.T, status int, code string) problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json (status %d, body %s)", ct, r.status, r.body)
	}
	var p problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("decode problem %s: %v", r.body, err)
	}
	if r.status != status || p.Status != status || p.Code != code {
		t.Fatalf("status %d, problem status %d code %q, want %d %q; body: %s", r.status, p.Status, p.Code, status, code, r.body)
	}
	if p.Title == "" || p.Type == "" || p.Detail == "" {
		t.Fatalf("problem lacks type, title or detail: %s", r.body)
	}
	return p
}

// event is one Server-Sent Event.
type event struct {
	id, name, data string
}

// readEvent reads the next event of an SSE stream.
func readEvent(br *bufio.Reader) (event, error) {
	var ev event
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimRight(line, "\n")
		if line == "" {
			if ev.name != "" || ev.data != "" {
				return ev, nil
			}
			continue
		}
		k, v, _ := strings.Cut(line, ": ")
		switch k {
		case "id":
			ev.id = v
		case "event":
			ev.name = v
		case "data":
			ev.data = v
		}
	}
}

// openEvents opens the event stream of run id; lastID, if not "", is sent
// as Last-Event-ID. The stream is closed when the test ends.
func (b *bundle) openEvents(t *testing.T, id int64, lastID string, header ...string) (*http.Response, *bufio.Reader) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/v1/runs/%d/events", b.srv.URL, id), nil)
	if err != nil {
		t.Fatal(err)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := b.client.Do(req)
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res, bufio.NewReader(res.Body)
}
