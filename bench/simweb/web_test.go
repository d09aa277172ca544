package simweb_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/bench/simweb"
)

// mustStart starts a web and closes it when the test ends.
func mustStart(tb testing.TB, cfg simweb.Config) *simweb.Web {
	tb.Helper()
	w, err := simweb.Start(cfg)
	if err != nil {
		tb.Fatalf("Start: %v", err)
	}
	tb.Cleanup(func() {
		if err := w.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return w
}

// get fetches rawURL and returns the status, the Retry-After header and the body.
func get(tb testing.TB, c *http.Client, rawURL string) (int, string, string) {
	tb.Helper()
	resp, err := c.Get(rawURL)
	if err != nil {
		tb.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read %s: %v", rawURL, err)
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), string(body)
}

func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

var (
	hrefRE  = regexp.MustCompile(`<a href="([^"]+)"`)
	titleRE = regexp.MustCompile(`<h1 class="title">([^<]*)</h1>`)
	priceRE = regexp.MustCompile(`<span class="price">([^<]*)</span>`)
	tagRE   = regexp.MustCompile(`<a class="tag">([^<]*)</a>`)
)

// parseItem extracts the item of a page body the way the crawlers under test do.
func parseItem(t *testing.T, body string) simweb.Item {
	t.Helper()
	title, price := titleRE.FindStringSubmatch(body), priceRE.FindStringSubmatch(body)
	if title == nil || price == nil {
		t.Fatalf("page without item: %.300s", body)
	}
	it := simweb.Item{Title: title[1], Price: price[1]}
	for _, m := range tagRE.FindAllStringSubmatch(body, -1) {
		it.Tags = append(it.Tags, m[1])
	}
	return it
}

// TestCrawlReachesEverything crawls the web breadth-first like a polite crawler (robots obeyed,
// one retry per 503, no refetch) and checks that every page is reachable, that every item is the
// expected one and that the server-side stats agree with what the client did.
func TestCrawlReachesEverything(t *testing.T) {
	t.Parallel()
	w := mustStart(t, simweb.Config{
		Hosts: 3, PagesPerHost: 40, Links: 4, CrossHostLinks: 2,
		Fail503: 0.2, NotFound: 0.1, RobotsDisallow: "/private/", PageBytes: 2000, Seed: 7,
	})
	c := newClient(t)
	scope := make(map[string]bool)
	for _, h := range w.Hosts() {
		scope[h] = true
		code, _, body := get(t, c, "http://"+h+"/robots.txt")
		if code != http.StatusOK || !strings.Contains(body, "Disallow: /private/") {
			t.Fatalf("robots.txt of %s = %d %q, want 200 disallowing /private/", h, code, body)
		}
	}
	requests := len(w.Hosts())
	seen := make(map[string]bool)
	queue := w.URLs()
	for _, u := range queue {
		seen[u] = true
	}
	var n200, n404, n503, disallowedLinks int
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		code, retryAfter, body := get(t, c, u)
		requests++
		if code == http.StatusServiceUnavailable {
			n503++
			if retryAfter != "1" {
				t.Errorf("503 of %s: Retry-After = %q, want 1", u, retryAfter)
			}
			code, _, body = get(t, c, u)
			requests++
		}
		switch code {
		case http.StatusNotFound:
			n404++
			continue
		case http.StatusOK:
		default:
			t.Fatalf("GET %s = %d, want 200 or 404", u, code)
		}
		n200++
		want, ok := w.Item(u)
		if !ok {
			t.Fatalf("Item(%s) = false for a page that answered 200", u)
		}
		if diff := cmp.Diff(want, parseItem(t, body)); diff != "" {
			t.Errorf("item of %s (-want +got):\n%s", u, diff)
		}
		base, _ := url.Parse(u)
		for _, m := range hrefRE.FindAllStringSubmatch(body, -1) {
			ref, err := base.Parse(m[1])
			if err != nil {
				t.Fatalf("bad link %q on %s: %v", m[1], u, err)
			}
			next := ref.String()
			if strings.HasPrefix(ref.Path, "/private/") {
				disallowedLinks++
				continue
			}
			if scope[ref.Host] && !seen[next] {
				seen[next] = true
				queue = append(queue, next)
			}
		}
	}
	if n200 != w.ExpectedPages() {
		t.Errorf("pages reached = %d, want %d", n200, w.ExpectedPages())
	}
	if n404 == 0 || n503 == 0 || disallowedLinks == 0 {
		t.Errorf("404s = %d, 503s = %d, links into /private/ = %d; want each > 0", n404, n503, disallowedLinks)
	}
	got := w.Stats()
	got.RequestsByURL = nil
	want := simweb.Stats{
		Requests: requests, RobotsRequests: 3, PagesServed: w.ExpectedPages(),
		Status503: n503, Status404: n404, BytesServed: got.BytesServed,
		ExpectedPages: 120, ExpectedItems: 120,
		MaxInFlightPerHost: 1, MinStartGap: got.MinStartGap, // one request at a time
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
}

func TestRobots(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		disallow string
		want     string
	}{
		{"allow all", "", "User-agent: *\nDisallow: \n"},
		{"private", "/private/", "User-agent: *\nDisallow: /private/\n"},
		{"no trailing slash", "/secret", "User-agent: *\nDisallow: /secret\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := mustStart(t, simweb.Config{PagesPerHost: 100, RobotsDisallow: tt.disallow})
			c := newClient(t)
			code, _, body := get(t, c, w.URLs()[0]+"robots.txt")
			if code != http.StatusOK || body != tt.want {
				t.Errorf("robots.txt = %d %q, want 200 %q", code, body, tt.want)
			}
			if tt.disallow == "" {
				return
			}
			// The disallowed pages exist, so a crawler that ignores robots.txt is caught.
			private := strings.TrimSuffix(tt.disallow, "/") + "/0"
			if code, _, _ := get(t, c, w.URLs()[0]+private[1:]); code != http.StatusOK {
				t.Errorf("GET %s = %d, want 200", private, code)
			}
			if got := w.Stats().DisallowedRequests; got != 1 {
				t.Errorf("DisallowedRequests = %d, want 1", got)
			}
		})
	}
}

func Test503Once(t *testing.T) {
	t.Parallel()
	w := mustStart(t, simweb.Config{PagesPerHost: 5, Fail503: 1})
	c := newClient(t)
	u := w.URLs()[0] + "p/3"
	wantCodes := []int{http.StatusServiceUnavailable, http.StatusOK, http.StatusOK}
	for i, want := range wantCodes {
		if code, _, _ := get(t, c, u); code != want {
			t.Errorf("request %d of %s = %d, want %d", i+1, u, code, want)
		}
		// The retry after a 503 is not a duplicate; the fetch after that is.
		if got, want := w.Stats().Duplicates, max(0, i-1); got != want {
			t.Errorf("after request %d: Duplicates = %d, want %d", i+1, got, want)
		}
	}
	s := w.Stats()
	if s.Status503 != 1 || s.PagesServed != 1 || s.RequestsByURL[u] != 3 {
		t.Errorf("Status503, PagesServed, RequestsByURL[%s] = %d, %d, %d; want 1, 1, 3",
			u, s.Status503, s.PagesServed, s.RequestsByURL[u])
	}
}

func TestStatsCounting(t *testing.T) {
	t.Parallel()
	w := mustStart(t, simweb.Config{Hosts: 2, PagesPerHost: 10, LatencyMin: time.Millisecond})
	c := newClient(t)
	a, b := w.URLs()[0], w.URLs()[1]
	for _, u := range []string{a, a + "p/1", a + "p/1", a + "p/99", a + "p/99", b + "p/0", b + "robots.txt", b + "robots.txt"} {
		get(t, c, u)
	}
	got := w.Stats()
	want := simweb.Stats{
		Requests: 8, RobotsRequests: 2, PagesServed: 2, Duplicates: 2, Status404: 3,
		InjectedDelay: 8 * time.Millisecond, BytesServed: got.BytesServed, ExpectedPages: 20, ExpectedItems: 20,
		HostDelayMax: 5 * time.Millisecond, MaxInFlightPerHost: 1, MinStartGap: got.MinStartGap,
		RequestsByURL: map[string]int{
			a: 1, a + "p/1": 2, a + "p/99": 2, b + "p/0": 1, b + "robots.txt": 2,
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
	if got.BytesServed < 2*simweb.PageBytesDefault {
		t.Errorf("BytesServed = %d, want at least two pages of %d", got.BytesServed, simweb.PageBytesDefault)
	}
}

// TestPolitenessRecording checks the per-host figures a politeness check relies on: requests
// sent one after another are never two in flight, requests sent at once are, and the shortest gap
// between two arrivals at one host is the client's pause or more.
func TestPolitenessRecording(t *testing.T) {
	t.Parallel()
	const latency = 30 * time.Millisecond
	w := mustStart(t, simweb.Config{Hosts: 2, PagesPerHost: 10, LatencyMin: latency})
	c := newClient(t)
	a, b := w.URLs()[0], w.URLs()[1]
	if got := w.Stats().MinStartGap; got != -1 {
		t.Errorf("MinStartGap before any request = %v, want -1", got)
	}
	// One after another, with a pause: one in flight, gaps of at least latency+pause.
	const pause = 20 * time.Millisecond
	for i := range 3 {
		get(t, c, a+"p/"+strconv.Itoa(i+1))
		time.Sleep(pause)
	}
	st := w.Stats()
	if st.MaxInFlightPerHost != 1 {
		t.Errorf("sequential requests: MaxInFlightPerHost = %d, want 1", st.MaxInFlightPerHost)
	}
	if st.MinStartGap < latency+pause {
		t.Errorf("sequential requests: MinStartGap = %v, want at least %v", st.MinStartGap, latency+pause)
	}
	// Three at once to host b: its requests overlap for most of the latency.
	done := make(chan struct{}, 3)
	for i := range 3 {
		go func() {
			defer func() { done <- struct{}{} }()
			resp, err := c.Get(b + "p/" + strconv.Itoa(i+1))
			if err != nil {
				t.Errorf("GET: %v", err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
	}
	for range 3 {
		<-done
	}
	st = w.Stats()
	if st.MaxInFlightPerHost != 3 {
		t.Errorf("three requests at once: MaxInFlightPerHost = %d, want 3", st.MaxInFlightPerHost)
	}
	if st.MinStartGap >= latency {
		t.Errorf("three requests at once: MinStartGap = %v, want less than the latency %v", st.MinStartGap, latency)
	}
	if want := 3 * latency; st.HostDelayMax != want {
		t.Errorf("HostDelayMax = %v, want %v (three requests of %v to one host)", st.HostDelayMax, want, latency)
	}
}

func TestLatencyBounds(t *testing.T) {
	t.Parallel()
	w := mustStart(t, simweb.Config{PagesPerHost: 20, LatencyMin: time.Millisecond, LatencyMax: 3 * time.Millisecond})
	c := newClient(t)
	for i := 1; i < 20; i++ {
		get(t, c, w.URLs()[0]+"p/"+strconv.Itoa(i))
	}
	d := w.Stats().InjectedDelay
	if d < 19*time.Millisecond || d > 57*time.Millisecond {
		t.Errorf("InjectedDelay = %v, want between 19ms and 57ms for 19 requests", d)
	}
}

func TestDeterministicPages(t *testing.T) {
	t.Parallel()
	cfg := simweb.Config{PagesPerHost: 50, NotFound: 0.2, Seed: 42}
	first, second := mustStart(t, cfg), mustStart(t, cfg)
	cfg.Seed = 43
	other := mustStart(t, cfg)
	c := newClient(t)
	_, _, a := get(t, c, first.URLs()[0]+"p/17")
	_, _, b := get(t, c, second.URLs()[0]+"p/17")
	_, _, o := get(t, c, other.URLs()[0]+"p/17")
	if a != b {
		t.Errorf("same seed, different pages:\n%s\n%s", a, b)
	}
	if a == o {
		t.Errorf("different seeds, same page:\n%s", a)
	}
	if n := len(a); n < 5500 || n > 6800 {
		t.Errorf("page size = %d bytes, want about %d", n, simweb.PageBytesDefault)
	}
}

func TestItem(t *testing.T) {
	t.Parallel()
	w := mustStart(t, simweb.Config{Hosts: 2, PagesPerHost: 10, RobotsDisallow: "/private/"})
	home := w.URLs()[1]
	tests := []struct {
		url    string
		want   string
		wantOK bool
	}{
		{home, "Item 1-0", true},
		{strings.TrimSuffix(home, "/"), "Item 1-0", true},
		{home + "p/9", "Item 1-9", true},
		{home + "p/10", "", false},
		{home + "p/01", "", false},
		{home + "private/0", "", false},
		{"http://127.0.0.1:1/p/1", "", false},
	}
	for _, tt := range tests {
		got, ok := w.Item(tt.url)
		if got.Title != tt.want || ok != tt.wantOK {
			t.Errorf("Item(%s) = %q, %v; want %q, %v", tt.url, got.Title, ok, tt.want, tt.wantOK)
		}
	}
}

func TestStartRejectsBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  simweb.Config
		want string
	}{
		{"too many hosts", simweb.Config{Hosts: simweb.HostsMax + 1}, "hosts"},
		{"negative pages", simweb.Config{PagesPerHost: -1}, "pages per host"},
		{"links", simweb.Config{Links: -2}, "links"},
		{"latency inverted", simweb.Config{LatencyMin: 2 * time.Millisecond, LatencyMax: time.Millisecond}, "latency"},
		{"fail503 above 1", simweb.Config{Fail503: 1.5}, "fail503"},
		{"not found negative", simweb.Config{NotFound: -0.1}, "not-found"},
		{"relative disallow", simweb.Config{RobotsDisallow: "private/"}, "robots disallow"},
		{"disallow pages", simweb.Config{RobotsDisallow: "/p"}, "robots disallow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, err := simweb.Start(tt.cfg)
			if err == nil {
				w.Close()
				t.Fatalf("Start(%+v) = nil error, want one mentioning %q", tt.cfg, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Start error = %q, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	w := mustStart(t, simweb.Config{PagesPerHost: 5, RateLimit: 0.5})
	c := newClient(t)
	base := w.URLs()[0]
	// robots.txt is exempt; then the burst token, then a 429.
	for i, tt := range []struct {
		path, wantRetryAfter string
		want                 int
	}{
		{"robots.txt", "", http.StatusOK},
		{"p/1", "", http.StatusOK},
		{"p/2", "1", http.StatusTooManyRequests},
		{"p/2", "1", http.StatusTooManyRequests}, // at once: early, and still no token
	} {
		if code, ra, _ := get(t, c, base+tt.path); code != tt.want || ra != tt.wantRetryAfter {
			t.Errorf("request %d (%s) = %d, Retry-After %q; want %d, %q", i+1, tt.path, code, ra, tt.want, tt.wantRetryAfter)
		}
	}
	s := w.Stats()
	// Each 429 deserves a retry: p/2 asked twice is no duplicate.
	if s.Status429 != 2 || s.EarlyRequests != 1 || s.Duplicates != 0 {
		t.Errorf("Status429, EarlyRequests, Duplicates = %d, %d, %d; want 2, 1, 0", s.Status429, s.EarlyRequests, s.Duplicates)
	}
}
