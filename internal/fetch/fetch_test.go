package fetch_test

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/fetch"
	"github.com/trawl-dev/trawl/internal/fetch/fetchtest"
)

const testUA = "trawl-test/1.0"

// testBundle is a client and a server running one handler.
type testBundle struct {
	client *fetch.Client
	server *httptest.Server
}

func setup(t *testing.T, h http.Handler, cfg fetch.Config) *testBundle {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := fetch.New(cfg)
	t.Cleanup(c.Close)
	return &testBundle{client: c, server: srv}
}

// fetch fetches path on the bundle's server; modify, if not nil, adjusts the request first.
func (b *testBundle) fetch(t *testing.T, path string, modify func(*fetch.Request)) (*fetch.Response, error) {
	t.Helper()
	return fetchURL(t, b.client, b.server.URL+path, modify)
}

func fetchURL(t *testing.T, c *fetch.Client, rawURL string, modify func(*fetch.Request)) (*fetch.Response, error) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	req := &fetch.Request{URL: u, UserAgent: testUA}
	if modify != nil {
		modify(req)
	}
	return c.Fetch(t.Context(), req)
}

// wantClass fails the test unless err is a *fetch.Error of class want.
func wantClass(t *testing.T, err error, want fetch.Class) *fetch.Error {
	t.Helper()
	var fe *fetch.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error = %v (%T), want a *fetch.Error of class %s", err, err, want)
	}
	if fe.Class != want {
		t.Fatalf("Class = %s, want %s (error: %v)", fe.Class, want, err)
	}
	return fe
}

func TestFetchDecodesContentEncodings(t *testing.T) {
	t.Parallel()
	const text = "<p>compressed body, compressed body, compressed body</p>"
	compress := func(w func(io.Writer) io.WriteCloser) []byte {
		var b bytes.Buffer
		zw := w(&b)
		if _, err := zw.Write([]byte(text)); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	gz := compress(func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) })
	tests := []struct {
		name     string
		encoding string
		body     []byte
	}{
		{"identity", "", []byte(text)},
		{"gzip", "gzip", gz},
		{"x-gzip", "x-gzip", gz},
		{"deflate zlib", "deflate", compress(func(w io.Writer) io.WriteCloser { return zlib.NewWriter(w) })},
		{"deflate raw", "deflate", compress(func(w io.Writer) io.WriteCloser {
			fw, _ := flate.NewWriter(w, flate.DefaultCompression)
			return fw
		})},
		{"gzip twice", "gzip, gzip", compress(func(w io.Writer) io.WriteCloser {
			outer := gzip.NewWriter(w)
			return multiCloser{gzip.NewWriter(outer), outer}
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if got := r.Header.Get("Accept-Encoding"); got != "gzip, deflate" {
					t.Errorf("Accept-Encoding = %q, want %q", got, "gzip, deflate")
				}
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				if tt.encoding != "" {
					w.Header().Set("Content-Encoding", tt.encoding)
				}
				_, _ = w.Write(tt.body)
			}), fetch.Config{})
			resp, err := b.fetch(t, "/", nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(resp.Body); got != text {
				t.Errorf("Body = %q, want %q", got, text)
			}
			if got, want := resp.WireBytes, int64(len(tt.body)); got != want {
				t.Errorf("WireBytes = %d, want %d", got, want)
			}
		})
	}
}

type multiCloser struct {
	io.WriteCloser
	outer io.Closer
}

func (m multiCloser) Close() error {
	return errors.Join(m.WriteCloser.Close(), m.outer.Close())
}

func TestFetchCorruptGzip(t *testing.T) {
	t.Parallel()
	b := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write([]byte("this is not gzip at all"))
	}), fetch.Config{})
	_, err := b.fetch(t, "/", nil)
	fe := wantClass(t, err, fetch.ClassDecode)
	if fe.Retryable() {
		t.Error("Retryable() = true for a decode error, want false")
	}
	if got, want := fe.Status, http.StatusOK; got != want {
		t.Errorf("Status = %d, want %d", got, want)
	}
}

// TestFetchGzipBomb runs alone (no t.Parallel), so that the allocation count measures this fetch only.
func TestFetchGzipBomb(t *testing.T) {
	const inflated = 1 << 30 // 1 GiB
	b := setup(t, fetchtest.GzipBomb(inflated), fetch.Config{})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	resp, err := b.fetch(t, "/", nil)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)

	if resp != nil {
		t.Errorf("resp = %+v, want nil", resp)
	}
	wantClass(t, err, fetch.ClassTooLarge)
	if elapsed > 2*time.Second {
		t.Errorf("gzip bomb took %v, want < 2s", elapsed)
	}
	// Reading the 10 MiB cap into a growing buffer allocates a few times the cap; inflating the bomb would take 1 GiB.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 128<<20 {
		t.Errorf("allocated %d MiB during the fetch, want < 128 MiB: the bomb was inflated", alloc>>20)
	}
}

func TestFetchTooLarge(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	tests := []struct {
		name    string
		handler http.Handler
		status  int
	}{
		{"content-length over the cap", fetchtest.Huge(limit + 1), http.StatusOK},
		{"endless chunked body", fetchtest.Endless(), http.StatusOK},
		{"gzip bomb", fetchtest.GzipBomb(4 * limit), http.StatusOK},
		{"non-200 success status", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNonAuthoritativeInfo)
			_, _ = w.Write(make([]byte, limit+1))
		}), http.StatusNonAuthoritativeInfo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.handler, fetch.Config{})
			resp, err := b.fetch(t, "/", func(r *fetch.Request) { r.MaxBody = limit })
			if resp != nil {
				t.Errorf("resp = %+v, want nil", resp)
			}
			fe := wantClass(t, err, fetch.ClassTooLarge)
			if fe.Retryable() {
				t.Error("Retryable() = true for too_large, want false")
			}
			// The page row and the run summary show the status of a page that was too large.
			if fe.Status != tt.status {
				t.Errorf("Status = %d, want %d", fe.Status, tt.status)
			}
			if fe.URL != b.server.URL+"/" {
				t.Errorf("URL = %q, want %q", fe.URL, b.server.URL+"/")
			}
		})
		t.Run(tt.name+" truncated", func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.handler, fetch.Config{})
			resp, err := b.fetch(t, "/", func(r *fetch.Request) { r.MaxBody, r.Truncate = limit, true })
			if err != nil {
				t.Fatal(err)
			}
			if got := len(resp.Body); got != limit {
				t.Errorf("len(Body) = %d, want %d", got, limit)
			}
			if !resp.Truncated {
				t.Error("Truncated = false, want true")
			}
		})
	}
	t.Run("exactly the cap", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fetchtest.Huge(limit), fetch.Config{})
		resp, err := b.fetch(t, "/", func(r *fetch.Request) { r.MaxBody = limit })
		if err != nil {
			t.Fatal(err)
		}
		if got := len(resp.Body); got != limit || resp.Truncated {
			t.Errorf("len(Body), Truncated = %d, %v, want %d, false", got, resp.Truncated, limit)
		}
	})
}

// TestFetchHeadersTooLarge checks that headers over Config.MaxHeaderBytes fail the attempt as too_large, never
// retried, whether the server sends header lines forever or one huge header.
func TestFetchHeadersTooLarge(t *testing.T) {
	t.Parallel()
	hugeHeader := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Huge", strings.Repeat("h", 2<<20))
		_, _ = w.Write([]byte("ok"))
	})
	tests := []struct {
		name    string
		handler http.Handler
		cfg     fetch.Config
	}{
		{"endless header lines", fetchtest.EndlessHeaders(1 << 30), fetch.Config{MaxHeaderBytes: 32 << 10}},
		{"endless header lines, default cap", fetchtest.EndlessHeaders(1 << 30), fetch.Config{}},
		{"one huge header, default cap", hugeHeader, fetch.Config{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.handler, tt.cfg)
			resp, err := b.fetch(t, "/", nil)
			if resp != nil {
				t.Errorf("resp = %+v, want nil", resp)
			}
			fe := wantClass(t, err, fetch.ClassTooLarge)
			if fe.Retryable() {
				t.Error("Retryable() = true for headers over the cap, want false")
			}
			if fe.Status != 0 {
				t.Errorf("Status = %d, want 0: no response was read", fe.Status)
			}
		})
	}
	t.Run("under the cap", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fetchtest.EndlessHeaders(16<<10), fetch.Config{MaxHeaderBytes: 64 << 10})
		resp, err := b.fetch(t, "/", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := string(resp.Body), "ok\n"; got != want {
			t.Errorf("Body = %q, want %q", got, want)
		}
	})
}

func TestFetchTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	tests := []struct {
		name    string
		handler http.Handler
	}{
		{"slow headers", fetchtest.Slow(time.Minute)},
		{"trickling body", fetchtest.Trickle(1, 20*time.Millisecond, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.handler, fetch.Config{})
			start := time.Now()
			_, err := b.fetch(t, "/", func(r *fetch.Request) { r.Timeout = timeout })
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("fetch took %v with a %v timeout", elapsed, timeout)
			}
			if fe := wantClass(t, err, fetch.ClassTimeout); !fe.Retryable() {
				t.Error("Retryable() = false for a timeout, want true")
			}
		})
	}
}

func TestFetchCanceled(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{})
	b := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	}), fetch.Config{})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		select {
		case <-arrived:
		case <-time.After(5 * time.Second):
		}
		cancel()
	}()
	_, err := b.client.Fetch(ctx, &fetch.Request{URL: mustParse(t, b.server.URL), UserAgent: testUA})
	if fe := wantClass(t, err, fetch.ClassCanceled); fe.Retryable() {
		t.Error("Retryable() = true for canceled, want false")
	}
	if got := fetch.ClassOf(fmt.Errorf("wrapped: %w", err)); got != fetch.ClassCanceled {
		t.Errorf("ClassOf(wrapped) = %s, want %s", got, fetch.ClassCanceled)
	}
}

func TestFetchRedirects(t *testing.T) {
	t.Parallel()
	veto := errors.New("off limits")
	tests := []struct {
		name          string
		handler       http.Handler
		modify        func(*fetch.Request)
		wantClass     fetch.Class // "" for success
		wantStatus    int
		wantPath      string
		wantRedirects int
	}{
		{name: "chain within the default cap", handler: fetchtest.RedirectChain(3),
			wantStatus: 200, wantPath: "/hop/3", wantRedirects: 3},
		{name: "chain at the cap", handler: fetchtest.RedirectChain(2), modify: func(r *fetch.Request) { r.MaxRedirects = 2 },
			wantStatus: 200, wantPath: "/hop/2", wantRedirects: 2},
		{name: "chain over the cap", handler: fetchtest.RedirectChain(3), modify: func(r *fetch.Request) { r.MaxRedirects = 2 },
			wantClass: fetch.ClassRedirect},
		{name: "chain over the default cap", handler: fetchtest.RedirectChain(11), wantClass: fetch.ClassRedirect},
		{name: "negative cap does not follow", handler: fetchtest.RedirectChain(3), modify: func(r *fetch.Request) { r.MaxRedirects = -1 },
			wantStatus: http.StatusFound, wantPath: "/", wantRedirects: 0},
		{name: "loop", handler: fetchtest.RedirectLoop(), wantClass: fetch.ClassRedirect},
		{name: "check redirect veto", handler: fetchtest.RedirectChain(3),
			modify: func(r *fetch.Request) {
				r.CheckRedirect = func(to *url.URL) error {
					if to.Path == "/hop/2" {
						return veto
					}
					return nil
				}
			},
			wantClass: fetch.ClassOutOfScope},
		{name: "non-http target", handler: http.RedirectHandler("ftp://example.com/file", http.StatusMovedPermanently),
			wantClass: fetch.ClassRedirect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.handler, fetch.Config{})
			resp, err := b.fetch(t, "/", tt.modify)
			if tt.wantClass != "" {
				fe := wantClass(t, err, tt.wantClass)
				if fe.Retryable() {
					t.Errorf("Retryable() = true for %s, want false", fe.Class)
				}
				if tt.wantClass == fetch.ClassOutOfScope && !errors.Is(err, veto) {
					t.Errorf("error %v does not wrap the CheckRedirect error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tt.wantStatus || resp.URL.Path != tt.wantPath || resp.Redirects != tt.wantRedirects {
				t.Errorf("Status, URL.Path, Redirects = %d, %s, %d, want %d, %s, %d",
					resp.Status, resp.URL.Path, resp.Redirects, tt.wantStatus, tt.wantPath, tt.wantRedirects)
			}
		})
	}
}

func TestFetchCharsets(t *testing.T) {
	t.Parallel()
	serve := func(contentType string, body []byte) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if contentType != "" {
				w.Header().Set("Content-Type", contentType)
			}
			_, _ = w.Write(body)
		})
	}
	tests := []struct {
		name        string
		handler     http.Handler
		wantType    string
		wantCharset string
		wantBody    string // a substring of the decoded body
	}{
		{"latin-1 in header", fetchtest.Latin1(false), "text/html", "windows-1252", fetchtest.Latin1Text},
		{"latin-1 in meta", fetchtest.Latin1(true), "text/html", "windows-1252", fetchtest.Latin1Text},
		{"windows-1252 in header", serve("text/plain; charset=windows-1252", []byte("\x93quoted\x94 \x80 5")),
			"text/plain", "windows-1252", "“quoted” € 5"},
		{"http-equiv meta", serve("text/html", []byte(`<meta http-equiv="Content-Type" content="text/html; charset=windows-1252"><p>caf`+"\xe9")),
			"text/html", "windows-1252", "café"},
		{"utf-8 BOM beats a wrong header", serve("text/html; charset=iso-8859-1", []byte("\xEF\xBB\xBF<p>café</p>")),
			"text/html", "utf-8", "<p>café</p>"},
		{"utf-16le BOM", serve("text/plain", []byte("\xFF\xFEh\x00\xe9\x00")), "text/plain", "utf-16le", "hé"},
		{"no declaration is utf-8", serve("text/html", []byte("<p>naïve</p>")), "text/html", "utf-8", "<p>naïve</p>"},
		{"header lies: invalid utf-8 replaced", fetchtest.WrongCharset(), "text/html", "utf-8", "Caf\uFFFD cr\uFFFDme"},
		{"xml declaration", serve("application/xml", []byte(`<?xml version="1.0" encoding="ISO-8859-1"?><a>caf`+"\xe9</a>")),
			"application/xml", "windows-1252", "<a>café</a>"},
		{"json is utf-8", serve("application/json", []byte(`{"a":"ü"}`)), "application/json", "utf-8", `{"a":"ü"}`},
		{"missing content type is sniffed", serve("", []byte("<!DOCTYPE html><p>x</p>")), "text/html", "utf-8", "<p>x</p>"},
		{"binary is raw", serve("image/png", []byte("\x89PNG\xff\xfe")), "image/png", "", "\x89PNG\xff\xfe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.handler, fetch.Config{})
			resp, err := b.fetch(t, "/", nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.ContentType != tt.wantType || resp.Charset != tt.wantCharset {
				t.Errorf("ContentType, Charset = %q, %q, want %q, %q", resp.ContentType, resp.Charset, tt.wantType, tt.wantCharset)
			}
			if !bytes.Contains(resp.Body, []byte(tt.wantBody)) {
				t.Errorf("Body = %q, want it to contain %q", resp.Body, tt.wantBody)
			}
			if bytes.HasPrefix(resp.Body, []byte("\uFEFF")) {
				t.Errorf("Body = %q starts with a BOM", resp.Body)
			}
		})
	}
}

func TestFetchHTTPErrors(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name           string
		handler        http.Handler
		wantClass      fetch.Class
		wantStatus     int
		wantRetryAfter time.Duration
		wantRetryable  bool
	}{
		{"404", fetchtest.Status(http.StatusNotFound), fetch.ClassHTTP4xx, 404, 0, false},
		{"429 with seconds", fetchtest.Flaky(1, http.StatusTooManyRequests, "7"), fetch.ClassHTTP4xx, 429, 7 * time.Second, true},
		{"503 with seconds", fetchtest.Flaky(1, http.StatusServiceUnavailable, "120"), fetch.ClassHTTP5xx, 503, 2 * time.Minute, true},
		{"503 with date", fetchtest.Flaky(1, http.StatusServiceUnavailable, now.Add(90*time.Second).Format(http.TimeFormat)),
			fetch.ClassHTTP5xx, 503, 90 * time.Second, true},
		{"503 with a past date", fetchtest.Flaky(1, http.StatusServiceUnavailable, now.Add(-time.Hour).Format(http.TimeFormat)),
			fetch.ClassHTTP5xx, 503, 0, true},
		{"503 with garbage", fetchtest.Flaky(1, http.StatusServiceUnavailable, "soon"), fetch.ClassHTTP5xx, 503, 0, true},
		{"501", fetchtest.Status(http.StatusNotImplemented), fetch.ClassHTTP5xx, 501, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.handler, fetch.Config{Now: func() time.Time { return now }})
			resp, err := b.fetch(t, "/", nil)
			fe := wantClass(t, err, tt.wantClass)
			if fe.Status != tt.wantStatus || fe.RetryAfter != tt.wantRetryAfter || fe.Retryable() != tt.wantRetryable {
				t.Errorf("Status, RetryAfter, Retryable() = %d, %v, %v, want %d, %v, %v",
					fe.Status, fe.RetryAfter, fe.Retryable(), tt.wantStatus, tt.wantRetryAfter, tt.wantRetryable)
			}
			if resp == nil {
				t.Fatal("resp = nil, want the error response")
			}
			if want := http.StatusText(tt.wantStatus) + "\n"; resp.Status != tt.wantStatus || string(resp.Body) != want {
				t.Errorf("resp Status, Body = %d, %q, want %d, %q", resp.Status, resp.Body, tt.wantStatus, want)
			}
		})
	}
}

func TestFetchNetworkErrors(t *testing.T) {
	t.Parallel()
	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		if err := ln.Close(); err != nil {
			t.Fatal(err)
		}
		_, err = fetchURL(t, fetch.New(fetch.Config{}), "http://"+addr+"/", nil)
		if fe := wantClass(t, err, fetch.ClassConnect); !fe.Retryable() {
			t.Error("Retryable() = false for connect, want true")
		}
	})
	t.Run("unknown host", func(t *testing.T) {
		t.Parallel()
		_, err := fetchURL(t, fetch.New(fetch.Config{}), "http://nonexistent.invalid/", nil)
		wantClass(t, err, fetch.ClassDNS)
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewUnstartedServer(fetchtest.Status(http.StatusOK))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the rejected handshake is expected
		srv.StartTLS()
		t.Cleanup(srv.Close)
		_, err := fetchURL(t, fetch.New(fetch.Config{}), srv.URL, nil)
		wantClass(t, err, fetch.ClassTLS)
	})
}

func TestFetchBodyCutShort(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		_, _ = w.Write([]byte("only ten b"))
		_ = http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler) // drops the connection mid-body
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	_, err := fetchURL(t, fetch.New(fetch.Config{}), srv.URL, nil)
	if fe := wantClass(t, err, fetch.ClassNetwork); !fe.Retryable() {
		t.Error("Retryable() = false for a connection dropped mid-body, want true")
	}
}

// TestFetchBlockPrivateNetworks fetches a loopback server directly with the guard on: by address, by a name that
// resolves to loopback and by IPv4-mapped and "this host" spellings. Redirects and DNS answers are covered in
// guard_internal_test.go.
func TestFetchBlockPrivateNetworks(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	b := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }),
		fetch.Config{BlockPrivateNetworks: true})
	port := b.server.Listener.Addr().(*net.TCPAddr).Port
	tests := []struct {
		name, url string
	}{
		{"loopback address", b.server.URL},
		{"localhost resolves to loopback", fmt.Sprintf("http://localhost:%d/", port)},
		{"IPv4-mapped IPv6", fmt.Sprintf("http://[::ffff:127.0.0.1]:%d/", port)},
		{"0.0.0.0 reaches the local host", fmt.Sprintf("http://0.0.0.0:%d/", port)},
		{"https dials through the guard too", "https" + strings.TrimPrefix(b.server.URL, "http")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fetchURL(t, b.client, tt.url, nil)
			if fe := wantClass(t, err, fetch.ClassBlocked); fe.Retryable() {
				t.Errorf("Retryable() = true for blocked_network, want false")
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("server got %d requests, want 0", n)
	}
	// The same server is reachable without the guard: the refusals above were the guard's.
	if _, err := fetchURL(t, fetch.New(fetch.Config{}), b.server.URL, nil); err != nil {
		t.Errorf("without the guard: %v", err)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("server got %d requests without the guard, want 1", n)
	}
}

func TestFetchSendsHeaders(t *testing.T) {
	t.Parallel()
	got := make(chan http.Header, 1)
	b := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
	}), fetch.Config{})
	_, err := b.fetch(t, "/", func(r *fetch.Request) {
		r.UserAgent = "trawl/9.9 (+https://example.com)"
		r.Header = http.Header{"X-Probe": {"42"}, "Accept": {"application/json"}, "Accept-Encoding": {"br"}}
	})
	if err != nil {
		t.Fatal(err)
	}
	h := <-got
	want := map[string]string{
		"User-Agent":      "trawl/9.9 (+https://example.com)",
		"X-Probe":         "42",
		"Accept":          "application/json",
		"Accept-Encoding": "gzip, deflate",
	}
	gotMap := map[string]string{}
	for k := range want {
		gotMap[k] = h.Get(k)
	}
	if diff := cmp.Diff(want, gotMap); diff != "" {
		t.Errorf("request headers (-want +got):\n%s", diff)
	}
}

func TestFetchInvalidRequest(t *testing.T) {
	t.Parallel()
	c := fetch.New(fetch.Config{})
	tests := []struct {
		name string
		req  *fetch.Request
	}{
		{"no url", &fetch.Request{UserAgent: testUA}},
		{"relative url", &fetch.Request{URL: &url.URL{Path: "/x"}, UserAgent: testUA}},
		{"ftp url", &fetch.Request{URL: mustParse(t, "ftp://example.com/"), UserAgent: testUA}},
		{"no user agent", &fetch.Request{URL: mustParse(t, "http://example.com/")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.Fetch(t.Context(), tt.req)
			var fe *fetch.Error
			if err == nil || errors.As(err, &fe) {
				t.Errorf("error = %v, want a plain error", err)
			}
		})
	}
}

func TestErrorRetryable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  *fetch.Error
		want bool
	}{
		{"connect", &fetch.Error{Class: fetch.ClassConnect}, true},
		{"timeout", &fetch.Error{Class: fetch.ClassTimeout}, true},
		{"network", &fetch.Error{Class: fetch.ClassNetwork}, true},
		{"dns not found", &fetch.Error{Class: fetch.ClassDNS, Err: &net.DNSError{IsNotFound: true}}, false},
		{"dns temporary", &fetch.Error{Class: fetch.ClassDNS, Err: &net.DNSError{IsTemporary: true}}, true},
		{"dns timeout", &fetch.Error{Class: fetch.ClassDNS, Err: &net.DNSError{IsTimeout: true}}, true},
		{"dns without cause", &fetch.Error{Class: fetch.ClassDNS}, false},
		{"429", &fetch.Error{Class: fetch.ClassHTTP4xx, Status: 429}, true},
		{"404", &fetch.Error{Class: fetch.ClassHTTP4xx, Status: 404}, false},
		{"408", &fetch.Error{Class: fetch.ClassHTTP4xx, Status: 408}, false},
		{"500", &fetch.Error{Class: fetch.ClassHTTP5xx, Status: 500}, true},
		{"501", &fetch.Error{Class: fetch.ClassHTTP5xx, Status: 501}, false},
		{"502", &fetch.Error{Class: fetch.ClassHTTP5xx, Status: 502}, true},
		{"503", &fetch.Error{Class: fetch.ClassHTTP5xx, Status: 503}, true},
		{"tls", &fetch.Error{Class: fetch.ClassTLS}, false},
		{"too large", &fetch.Error{Class: fetch.ClassTooLarge}, false},
		{"redirect", &fetch.Error{Class: fetch.ClassRedirect}, false},
		{"out of scope", &fetch.Error{Class: fetch.ClassOutOfScope}, false},
		{"blocked", &fetch.Error{Class: fetch.ClassBlocked}, false},
		{"decode", &fetch.Error{Class: fetch.ClassDecode}, false},
		{"robots", &fetch.Error{Class: fetch.ClassRobots}, false},
		{"canceled", &fetch.Error{Class: fetch.ClassCanceled}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Retryable(); got != tt.want {
				t.Errorf("Retryable() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestClassOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want fetch.Class
	}{
		{"nil", nil, ""},
		{"fetch error", &fetch.Error{Class: fetch.ClassDNS}, fetch.ClassDNS},
		{"wrapped fetch error", fmt.Errorf("page: %w", &fetch.Error{Class: fetch.ClassTooLarge}), fetch.ClassTooLarge},
		{"context canceled", fmt.Errorf("x: %w", context.Canceled), fetch.ClassCanceled},
		{"other", io.ErrUnexpectedEOF, fetch.ClassNetwork},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := fetch.ClassOf(tt.err); got != tt.want {
				t.Errorf("ClassOf(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	err := &fetch.Error{Class: fetch.ClassHTTP5xx, URL: "http://a.example/", Status: 503, Err: io.EOF}
	if got, want := err.Error(), "fetch http://a.example/: http_5xx: status 503: EOF"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, io.EOF) {
		t.Error("errors.Is(err, io.EOF) = false, want true")
	}
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestErrorNamesURLOnce checks that an error names its URL once: net/http's *url.Error ("Get \"http://…\": …") is
// unwrapped, so that messages never read "fetch http://x/: connect: Get \"http://x/\": dial tcp …".
func TestErrorNamesURLOnce(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL + "/gone"
	closed.Close()
	tests := []struct {
		name    string
		handler http.Handler
		url     string // instead of the server's URL
		modify  func(*fetch.Request)
		class   fetch.Class
	}{
		{name: "connect", url: closedURL, class: fetch.ClassConnect},
		{name: "dns", url: "http://nonexistent.invalid/x", class: fetch.ClassDNS},
		{name: "timeout", handler: fetchtest.Slow(time.Minute), modify: func(r *fetch.Request) { r.Timeout = 50 * time.Millisecond }, class: fetch.ClassTimeout},
		{name: "headers too large", handler: fetchtest.EndlessHeaders(1 << 30), class: fetch.ClassTooLarge},
		{name: "body too large", handler: fetchtest.Endless(), modify: func(r *fetch.Request) { r.MaxBody = 1 << 10 }, class: fetch.ClassTooLarge},
		{name: "redirect loop", handler: fetchtest.RedirectLoop(), class: fetch.ClassRedirect},
		{name: "http error", handler: fetchtest.Status(http.StatusNotFound), class: fetch.ClassHTTP4xx},
		{name: "out of scope", handler: fetchtest.RedirectChain(2), modify: func(r *fetch.Request) {
			r.CheckRedirect = func(*url.URL) error { return errors.New("not in scope") }
		}, class: fetch.ClassOutOfScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rawURL := tt.url
			c := fetch.New(fetch.Config{})
			t.Cleanup(c.Close)
			if tt.handler != nil {
				srv := httptest.NewServer(tt.handler)
				t.Cleanup(srv.Close)
				rawURL = srv.URL + "/start"
			}
			_, err := fetchURL(t, c, rawURL, tt.modify)
			fe := wantClass(t, err, tt.class)
			msg := err.Error()
			if n := strings.Count(msg, fe.URL); fe.URL == "" || n != 1 {
				t.Errorf("Error() = %q names URL %q %d times, want once", msg, fe.URL, n)
			}
			if strings.Contains(msg, `Get "`) {
				t.Errorf("Error() = %q repeats the request in net/http's words", msg)
			}
		})
	}
}
