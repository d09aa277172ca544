package fetchtest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/fetch/fetchtest"
)

// get requests path from a server running h with a client that neither decompresses nor follows redirects.
func get(t *testing.T, h http.Handler, path string) (*http.Response, []byte) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := &http.Client{
		Transport:     &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestGzipBomb(t *testing.T) {
	t.Parallel()
	const size = 3<<20 + 5
	resp, body := get(t, fetchtest.GzipBomb(size), "/")
	if got := resp.Header.Get("Content-Encoding"); got != "gzip" {
		t.Errorf("Content-Encoding = %q, want gzip", got)
	}
	if len(body) > size/500 {
		t.Errorf("wire size = %d, want < %d", len(body), size/500)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	inflated, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if len(inflated) != size || bytes.ContainsFunc(inflated, func(r rune) bool { return r != 0 }) {
		t.Errorf("inflated %d bytes (all zero: %v), want %d zero bytes", len(inflated), !bytes.ContainsFunc(inflated, func(r rune) bool { return r != 0 }), size)
	}
}

func TestRedirects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler http.Handler
		path    string
		want    string
	}{
		{"loop start", fetchtest.RedirectLoop(), "/", "/a"},
		{"loop a", fetchtest.RedirectLoop(), "/a", "/b"},
		{"loop b", fetchtest.RedirectLoop(), "/b", "/a"},
		{"chain start", fetchtest.RedirectChain(2), "/", "/hop/1"},
		{"chain middle", fetchtest.RedirectChain(2), "/hop/1", "/hop/2"},
		{"chain end", fetchtest.RedirectChain(2), "/hop/2", ""},
		{"empty chain", fetchtest.RedirectChain(0), "/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, _ := get(t, tt.handler, tt.path)
			if got := resp.Header.Get("Location"); got != tt.want {
				t.Errorf("Location = %q, want %q", got, tt.want)
			}
			if tt.want == "" && resp.StatusCode != http.StatusOK {
				t.Errorf("Status = %d, want 200", resp.StatusCode)
			}
		})
	}
}

func TestFlaky(t *testing.T) {
	t.Parallel()
	h := fetchtest.Flaky(2, http.StatusServiceUnavailable, "3")
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	for i, want := range []struct {
		status     int
		retryAfter string
	}{{503, "3"}, {503, "3"}, {200, ""}, {200, ""}} {
		resp, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != want.status || resp.Header.Get("Retry-After") != want.retryAfter {
			t.Errorf("request %d: Status, Retry-After = %d, %q, want %d, %q",
				i+1, resp.StatusCode, resp.Header.Get("Retry-After"), want.status, want.retryAfter)
		}
	}
}

func TestBodies(t *testing.T) {
	t.Parallel()
	latin1 := []byte("Caf\xe9 cr\xe8me")
	tests := []struct {
		name        string
		handler     http.Handler
		contentType string
		wantLen     int
		contains    []byte
	}{
		{"huge", fetchtest.Huge(100_000), "text/plain; charset=utf-8", 100_000, []byte("hhh")},
		{"finite trickle", fetchtest.Trickle(3, time.Millisecond, 10), "text/plain; charset=utf-8", 10, []byte("ttt")},
		{"latin-1 header", fetchtest.Latin1(false), "text/html; charset=iso-8859-1", -1, latin1},
		{"latin-1 meta", fetchtest.Latin1(true), "text/html", -1, []byte(`<meta charset="iso-8859-1">`)},
		{"wrong charset", fetchtest.WrongCharset(), "text/html; charset=utf-8", -1, latin1},
		{"status", fetchtest.Status(http.StatusTeapot), "text/plain; charset=utf-8", -1, []byte("I'm a teapot")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := get(t, tt.handler, "/")
			if got := resp.Header.Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", got, tt.contentType)
			}
			if tt.wantLen >= 0 && len(body) != tt.wantLen {
				t.Errorf("len(body) = %d, want %d", len(body), tt.wantLen)
			}
			if !bytes.Contains(body, tt.contains) {
				t.Errorf("body = %q, want it to contain %q", body, tt.contains)
			}
		})
	}
}

// TestHonoursCancellation checks that each endless or slow handler returns soon after its client goes away.
func TestHonoursCancellation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler http.Handler
	}{
		{"slow", fetchtest.Slow(time.Hour)},
		{"trickle", fetchtest.Trickle(1, time.Millisecond, 0)},
		{"endless", fetchtest.Endless()},
		{"huge", fetchtest.Huge(1 << 40)},
		{"gzip bomb", fetchtest.GzipBomb(1 << 40)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			started, returned := make(chan struct{}), make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				close(started)
				defer close(returned)
				tt.handler.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			ctx, cancel := context.WithCancel(t.Context())
			errc := make(chan error, 1)
			go func() {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
				resp, err := srv.Client().Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
				errc <- err
			}()
			wait(t, started, "handler start")
			cancel()
			wait(t, returned, "handler return")
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Errorf("client error = %v, want context.Canceled", err)
			}
		})
	}
}

func wait(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestEndlessHeaders(t *testing.T) {
	t.Parallel()
	const total = 64 << 10
	resp, body := get(t, fetchtest.EndlessHeaders(total), "/")
	if got, want := string(body), "ok\n"; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
	n := 0
	for _, v := range resp.Header.Values("X-Endless") {
		n += len("X-Endless: ") + len(v) + 2
	}
	if n < total {
		t.Errorf("got %d bytes of X-Endless headers, want at least %d", n, total)
	}
}
