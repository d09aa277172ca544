package runner_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/crawl"
	"github.com/trawl-dev/trawl/internal/fetch"
	"github.com/trawl-dev/trawl/internal/robots"
	"github.com/trawl-dev/trawl/internal/runner"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/store/sqlite"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// site is a tiny website: / links to /ok and /bad; /bad answers 404 until
// fixed; /slow, linked only when slow is set, answers once the request is
// canceled, after telling hit.
type site struct {
	*httptest.Server
	fixed atomic.Bool
	slow  bool
	hit   chan struct{}
}

func newSite(t *testing.T, slow bool) *site {
	t.Helper()
	s := &site{slow: slow, hit: make(chan struct{}, 1)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			links := `<a href="/ok">ok</a><a href="/bad">bad</a>`
			if s.slow {
				links = `<a href="/slow">slow</a>`
			}
			fmt.Fprintf(w, `<html><body><div class="q">root</div>%s</body></html>`, links)
		case "/ok":
			fmt.Fprint(w, `<html><body><div class="q">ok</div></body></html>`)
		case "/bad":
			if !s.fixed.Load() {
				http.NotFound(w, r)
				return
			}
			fmt.Fprint(w, `<html><body><div class="q">bad, fixed</div></body></html>`)
		case "/slow":
			select {
			case s.hit <- struct{}{}:
			default:
			}
			<-r.Context().Done()
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// bundle is a real SQLite store and engine.
type bundle struct {
	db     *sqlite.DB
	engine *crawl.Engine
}

func setup(t *testing.T) *bundle {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "trawl.db"), sqlite.Config{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	fc := fetch.New(fetch.Config{})
	t.Cleanup(fc.Close)
	engine, err := crawl.New(db, fc, robots.New(fc, robots.Config{}), crawl.Config{Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{db: db, engine: engine}
}

// mustSpider is a spider of base that follows every link and keeps one
// item per page. extra is appended to its YAML (to change its hash).
func mustSpider(t *testing.T, base, extra string) *spider.Spider {
	t.Helper()
	src := fmt.Sprintf("name: tiny\nstart_urls: [%q]\nfollow: [{css: a}]\nitems: [{fields: {text: div.q}}]\n"+
		"politeness: {robots: ignore}\nfetch: {retries: 0}\n%s", base+"/", extra)
	sp, err := spider.Parse("tiny.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse spider: %v", err)
	}
	return sp
}

// crawlerFunc is a Crawler for the errors no real engine produces on cue.
type crawlerFunc func(ctx context.Context, p crawl.RunParams) (*crawl.Result, error)

func (f crawlerFunc) Run(ctx context.Context, p crawl.RunParams) (*crawl.Result, error) {
	return f(ctx, p)
}

// TestFinishByCause: how a crawl stopped decides the run's final status.
func TestFinishByCause(t *testing.T) {
	t.Parallel()
	fail := func(err error) runner.Crawler {
		return crawlerFunc(func(context.Context, crawl.RunParams) (*crawl.Result, error) { return nil, err })
	}
	tests := []struct {
		name    string
		slow    bool           // the site has a page that answers only when canceled
		down    bool           // the site is closed before the crawl
		cause   error          // canceled with this cause once the slow page is requested
		crawler runner.Crawler // nil: the real engine
		want    runner.End
		status  trawl.RunStatus
		errMsg  string // the run's stored error
		errIs   error  // Outcome.Err
	}{
		{name: "succeeded", want: runner.Succeeded, status: trawl.RunSucceeded},
		{name: "no page", down: true, want: runner.NoPage, status: trawl.RunFailed, errMsg: runner.NoPageMessage},
		{name: "user cancel", slow: true, cause: trawl.ErrRunCanceled, want: runner.Canceled, status: trawl.RunCanceled, errIs: trawl.ErrRunCanceled},
		{name: "shutdown", slow: true, cause: trawl.ErrShutdown, want: runner.Interrupted, status: trawl.RunRunning, errIs: trawl.ErrShutdown},
		{name: "signal", slow: true, cause: context.Canceled, want: runner.Interrupted, status: trawl.RunRunning, errIs: context.Canceled},
		{name: "shutdown reported by the engine", crawler: fail(fmt.Errorf("stop: %w", trawl.ErrShutdown)), want: runner.Interrupted, status: trawl.RunRunning, errIs: trawl.ErrShutdown},
		{name: "disk full", crawler: fail(fmt.Errorf("commit pages: %w", store.ErrDiskFull)), want: runner.DiskFull, status: trawl.RunRunning, errIs: store.ErrDiskFull},
		{name: "store error", crawler: fail(errors.New("commit pages: database is locked")), want: runner.Failed, status: trawl.RunFailed, errMsg: "commit pages: database is locked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			s := newSite(t, tt.slow)
			sp := mustSpider(t, s.URL, "")
			if tt.down {
				s.Close()
			}
			r, err := runner.Start(context.Background(), b.db, sp, runner.Options{})
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			defer r.Close()
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			if tt.cause != nil {
				go func() {
					select {
					case <-s.hit:
						cancel(tt.cause)
					case <-time.After(10 * time.Second):
						t.Error("the slow page was never requested")
						cancel(nil)
					}
				}()
			}
			c := tt.crawler
			if c == nil {
				c = b.engine
			}
			res, runErr := r.Crawl(ctx, c, nil)
			out, err := r.Finish(ctx, res, runErr)
			if err != nil {
				t.Fatalf("Finish: %v", err)
			}
			if out.End != tt.want || out.End.Status() != tt.status {
				t.Errorf("End = %v (status %s), want %v (%s); crawl error %v", out.End, out.End.Status(), tt.want, tt.status, runErr)
			}
			if tt.errIs != nil && !errors.Is(out.Err, tt.errIs) {
				t.Errorf("Outcome.Err = %v, want %v", out.Err, tt.errIs)
			}
			if tt.errIs == nil && tt.want != runner.Failed && out.Err != nil {
				t.Errorf("Outcome.Err = %v, want nil", out.Err)
			}
			got, err := b.db.Run(context.Background(), r.ID())
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got.Status != tt.status || got.Error != tt.errMsg {
				t.Errorf("stored run: status %s, error %q; want %s, %q", got.Status, got.Error, tt.status, tt.errMsg)
			}
			if tt.status == trawl.RunRunning {
				// Left resumable: the next Start takes up the same run.
				again, err := runner.Start(context.Background(), b.db, sp, runner.Options{})
				if err != nil {
					t.Fatalf("Start again: %v", err)
				}
				defer again.Close()
				if again.Origin != runner.Resumed || again.ID() != r.ID() {
					t.Errorf("Start after %s: origin %v, run %d; want run %d resumed", tt.name, again.Origin, again.ID(), r.ID())
				}
			}
		})
	}
}
