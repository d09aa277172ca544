package dashboard_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/trawl-dev/trawl/internal/demosite"
	"github.com/trawl-dev/trawl/internal/server"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/store/sqlite"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// service is a `trawl serve` in the test's process: internal/server on a
// real SQLite file and a loopback listener, crawling loopback sites.
type service struct {
	url string
	db  *sqlite.DB
}

// startService serves on a fresh database; fill, if set, writes to the
// database before the server starts.
func startService(t *testing.T, token string, fill func(*sqlite.DB)) *service {
	t.Helper()
	return startServiceConfig(t, server.Config{Token: token}, fill)
}

// startServiceRead serves with a token and a read token.
func startServiceRead(t *testing.T, token, readToken string) *service {
	t.Helper()
	return startServiceConfig(t, server.Config{Token: token, ReadToken: readToken}, nil)
}

func startServiceConfig(t *testing.T, cfg server.Config, fill func(*sqlite.DB)) *service {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trawl.db")
	db, err := sqlite.Open(context.Background(), path, sqlite.Config{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	if fill != nil {
		fill(db)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		cfg.Store, cfg.DBName, cfg.Listener = db, path, ln
		cfg.AllowPrivateNetworks, cfg.ShutdownTimeout = true, 5*time.Second
		done <- server.Run(ctx, cfg)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("server did not stop")
		}
		db.Close()
	})
	s := &service{url: "http://" + ln.Addr().String(), db: db}
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get(s.url + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not up: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// demo serves the demo site on loopback.
func demo(t *testing.T, quotes int) *httptest.Server {
	site := demosite.New(demosite.Config{Quotes: quotes, SlowDelay: -1})
	srv := httptest.NewServer(site.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// browser is a headless Chromium tab that records console errors.
type browser struct {
	ctx      context.Context
	mu       sync.Mutex
	errs     []string
	shots    string // where screenshots go
	download string // where downloads go
}

// expectedNetworkError reports whether m is the browser's own log line for
// an API answer the dashboard expects and shows: a 422 with a spider's
// problems.
func expectedNetworkError(m chromedp.ConsoleMessage) bool {
	return m.Source == "network" && strings.Contains(m.Text, "status of 422")
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	exe := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			exe = p
			break
		}
	}
	if exe == "" {
		t.Fatal("no Chromium on PATH: install Debian's chromium (apt-get install chromium), as .ci/run does")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-gpu", true), chromedp.Flag("force-prefers-reduced-motion", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	b := &browser{ctx: ctx, shots: os.Getenv("TRAWL_DASHBOARD_SCREENSHOTS"), download: t.TempDir()}
	if b.shots == "" {
		b.shots = t.TempDir()
	} else if err := os.MkdirAll(b.shots, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException {
				continue
			}
			if expectedNetworkError(m) {
				continue
			}
			b.mu.Lock()
			b.errs = append(b.errs, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line))
			b.mu.Unlock()
		}
	}()
	return b
}

// run runs steps with a time limit.
func (b *browser) run(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	get(t, b, what, chromedp.Steps(steps...))
}

// get runs an action with a time limit and returns its value.
func get[T any](t *testing.T, b *browser, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		hctx, hcancel := context.WithTimeout(b.ctx, 2*time.Second)
		html, _ := chromedp.Run(hctx, chromedp.OuterHTML(chromedp.CSS("main")))
		hcancel()
		t.Fatalf("%s: %v\npage: %.3000s", what, err, html)
	}
	return v
}

// css is a CSS selector.
func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// eval runs JavaScript for its effect.
func eval(js string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[any](js)(ctx, t)
		return err
	})
}

// open loads a page and waits until it says it is ready.
func (b *browser) open(t *testing.T, url, page string) {
	t.Helper()
	b.run(t, "open "+url, chromedp.Navigate(url), chromedp.WaitVisible(css(fmt.Sprintf(`body[data-ready=%q]`, page))))
}

// noErrors fails on any console error seen so far, and forgets them.
func (b *browser) noErrors(t *testing.T, where string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errs {
		t.Errorf("%s: %s", where, e)
	}
	b.errs = nil
}

// forget waits (up to 2 s) for a console error containing text, which
// the test caused on purpose, and drops it.
func (b *browser) forget(t *testing.T, text string) {
	t.Helper()
	waitFor(t, 2*time.Second, "the console error "+text, func() (bool, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		i := slices.IndexFunc(b.errs, func(e string) bool { return strings.Contains(e, text) })
		if i >= 0 {
			b.errs = slices.Delete(b.errs, i, i+1)
		}
		return i >= 0, nil
	})
}

// shot saves a full-page screenshot as name.png.
func (b *browser) shot(t *testing.T, name string) string {
	t.Helper()
	png := get(t, b, "screenshot "+name, chromedp.FullScreenshot(100))
	path := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", path)
	return path
}

// interactive is the time from navigation start to the page's
// "interactive" mark (set once its data is shown and it answers input).
func (b *browser) interactive(t *testing.T) time.Duration {
	t.Helper()
	ms := get(t, b, "performance", chromedp.Evaluate[float64](`performance.getEntriesByName("interactive").at(-1).startTime`))
	return time.Duration(ms * float64(time.Millisecond))
}

// waitFor polls cond every 50 ms for up to limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok, err := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s (last error: %v)", what, limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fillDataset stores n items in dataset name through the store, as a run
// would: 1,000 items a page, fields title, author (one of 50), price.
func fillDataset(tb testing.TB, db *sqlite.DB, name string, n int) {
	ctx := context.Background()
	const perPage = 1000
	var start []store.NewURL
	for i := range (n + perPage - 1) / perPage {
		start = append(start, store.NewURL{URL: fmt.Sprintf("http://big.test/%d", i), Host: "big.test"})
	}
	run, err := db.CreateRun(ctx, store.CreateRunParams{Spider: name, SpecHash: "h",
		Columns: []string{"title", "author", "price"}, StartURLs: start})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := db.StartRun(ctx, run.ID); err != nil {
		tb.Fatal(err)
	}
	pages, err := db.QueuedPages(ctx, run.ID, "big.test", 0, len(start))
	if err != nil {
		tb.Fatal(err)
	}
	batch := []store.PageResult{}
	flush := func() {
		if _, err := db.CommitPages(ctx, store.CommitParams{RunID: run.ID, Dataset: name, Pages: batch}); err != nil {
			tb.Fatal(err)
		}
		batch = batch[:0]
	}
	for p, page := range pages {
		items := make([]trawl.Item, 0, perPage)
		for j := 0; j < perPage && p*perPage+j < n; j++ {
			i := p*perPage + j
			items = append(items, trawl.Item{Key: fmt.Sprint(i), URL: page.URL, Fields: []trawl.Field{
				{Name: "title", Value: fmt.Sprintf("Item number %d", i)},
				{Name: "author", Value: fmt.Sprintf("Author %d", i%50)},
				{Name: "price", Value: float64(i%1000) / 10},
			}})
		}
		batch = append(batch, store.PageResult{PageID: page.ID, Status: 200, Items: items})
		if len(batch) == 10 {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
	if err := db.FinishRun(ctx, run.ID, trawl.RunSucceeded, ""); err != nil {
		tb.Fatal(err)
	}
}
