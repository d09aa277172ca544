package jobs_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/crawl"
	"github.com/trawl-dev/trawl/internal/fetch"
	"github.com/trawl-dev/trawl/internal/jobs"
	"github.com/trawl-dev/trawl/internal/robots"
	"github.com/trawl-dev/trawl/internal/runner"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/store/postgres"
	"github.com/trawl-dev/trawl/internal/store/postgres/pgtest"
	"github.com/trawl-dev/trawl/internal/store/sqlite"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// site is a test website: "/" links to /p/0 ... /p/N-1, each page holds
// one item, and every fetch is counted by path.
type site struct {
	*httptest.Server
	pages int
	delay atomic.Int64 // per page, in nanoseconds
	hang  atomic.Bool  // "/" also links to /hang, which never answers

	mu     sync.Mutex
	counts map[string]int
}

func newSite(t *testing.T, pages int, delay time.Duration) *site {
	t.Helper()
	s := &site{pages: pages, counts: map[string]int{}}
	s.delay.Store(int64(delay))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.counts[r.URL.Path]++
		s.mu.Unlock()
		if r.URL.Path == "/hang" {
			<-r.Context().Done()
			return
		}
		select {
		case <-time.After(time.Duration(s.delay.Load())):
		case <-r.Context().Done():
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, `<html><body><div class="q">%s</div>`, r.URL.Path)
		if r.URL.Path == "/" {
			for i := range s.pages {
				fmt.Fprintf(&b, `<a href="/p/%d">p</a>`, i)
			}
			if s.hang.Load() {
				b.WriteString(`<a href="/hang">h</a>`)
			}
		} else if !strings.HasPrefix(r.URL.Path, "/p/") {
			http.NotFound(w, r)
			return
		}
		b.WriteString(`</body></html>`)
		fmt.Fprint(w, b.String())
	}))
	t.Cleanup(s.Close)
	return s
}

// fetches returns the fetch counts by path.
func (s *site) fetches() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// env is a database with a store on it: a SQLite file, or a PostgreSQL
// schema of its own.
type env struct {
	t    *testing.T
	kind string // "sqlite" or "postgres"
	dsn  string // the SQLite file, or the PostgreSQL URL
	db   store.Store
}

func newEnv(t *testing.T) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trawl.db")
	return openEnv(t, "sqlite", path)
}

// newPGEnv is newEnv on a fresh PostgreSQL schema (pgtest: skipped
// without TRAWL_TEST_POSTGRES_URL, failed in CI).
func newPGEnv(t *testing.T) *env {
	t.Helper()
	return openEnv(t, "postgres", pgtest.Schema(t))
}

// newEnvs are the constructors of env, by store kind: the key cases run
// on both.
var newEnvs = []struct {
	kind string
	new  func(*testing.T) *env
}{{"sqlite", newEnv}, {"postgres", newPGEnv}}

// openEnv opens the store of kind at dsn, closed at cleanup.
func openEnv(t *testing.T, kind, dsn string) *env {
	t.Helper()
	var db store.Store
	var err error
	if kind == "postgres" {
		db, err = postgres.Open(context.Background(), dsn, postgres.Config{})
	} else {
		db, err = sqlite.Open(context.Background(), dsn, sqlite.Config{})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &env{t: t, kind: kind, dsn: dsn, db: db}
}

// config is a Service configuration on e with a real crawl engine.
func (e *env) config() jobs.Config {
	return jobs.Config{
		Store: e.db,
		NewCrawler: func(*spider.Spider) (runner.Crawler, error) {
			fc := fetch.New(fetch.Config{})
			// On PostgreSQL a run is shared: the hosts a killed process
			// leased wait for their lease to expire.
			return crawl.New(e.db, fc, robots.New(fc, robots.Config{}), crawl.Config{LeaseTTL: 3 * time.Second})
		},
	}
}

// start builds and starts a Service, stopped at cleanup.
func (e *env) start(cfg jobs.Config) *jobs.Service {
	e.t.Helper()
	svc, err := jobs.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { stop(e.t, svc) })
	return svc
}

func stop(t *testing.T, svc *jobs.Service) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := svc.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
}

// put stores a spider of s named name; extra is appended to its YAML.
func (e *env) put(name string, s *site, extra string) *spider.Spider {
	e.t.Helper()
	src := fmt.Sprintf("name: %s\nstart_urls: [%q]\nfollow: [{css: a}]\nitems: [{fields: {text: div.q}}]\n"+
		"politeness: {robots: ignore, delay: 0s, concurrency_per_host: 2}\nfetch: {retries: 0}\n%s", name, s.URL+"/", extra)
	sp, err := spider.Parse(name+".yaml", []byte(src))
	if err != nil {
		e.t.Fatal(err)
	}
	if _, _, err := e.db.PutSpider(context.Background(), store.PutSpiderParams{Name: name, Source: sp.Source, Format: store.FormatYAML, Hash: sp.Hash}); err != nil {
		e.t.Fatal(err)
	}
	return sp
}

// waitRun polls run id until ok returns true, for at most d.
func (e *env) waitRun(id int64, d time.Duration, ok func(*trawl.Run) bool) *trawl.Run {
	e.t.Helper()
	deadline := time.Now().Add(d)
	for {
		r, err := e.db.Run(context.Background(), id)
		if err != nil {
			e.t.Fatal(err)
		}
		if ok(r) {
			return r
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("run %d after %v: %+v", id, d, r)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func final(r *trawl.Run) bool { return r.Status.Final() }

// runsOf lists the runs of spider, newest first.
func (e *env) runsOf(name string) []trawl.Run {
	e.t.Helper()
	runs, err := e.db.Runs(context.Background(), store.RunQuery{Spider: name})
	if err != nil {
		e.t.Fatal(err)
	}
	return runs
}

// itemURLs returns the sorted _url of every item of dataset.
func (e *env) itemURLs(dataset string) []string {
	e.t.Helper()
	var out []string
	for raw, err := range e.db.Items(context.Background(), store.ItemQuery{Dataset: dataset, Fields: []string{"_url"}}) {
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, string(raw))
	}
	sort.Strings(out)
	return out
}
