// Package fetchtest provides hostile HTTP handlers (slow, endless, huge, gzip bombs, redirect loops, wrong charsets,
// flaky statuses) for tests of code that fetches pages.
//
// Mount a handler on an httptest.Server. Every handler honours request cancellation: none blocks or writes beyond
// the moment the client goes away, so a test server shuts down promptly.
package fetchtest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// chunkSize is how much the streaming handlers write at once.
const chunkSize = 32 << 10

// Slow waits delay before sending the response headers, then answers 200 with a short text body. It returns early,
// without a response, when the request is canceled.
func Slow(delay time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("slow response\n"))
	})
}

// Trickle answers 200 at once, then writes chunk bytes of body every interval, flushing each, until total bytes are
// written (total <= 0: forever) or the request is canceled.
func Trickle(chunk int, every time.Duration, total int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		_ = rc.Flush()
		tick := time.NewTicker(every)
		defer tick.Stop()
		piece := bytes.Repeat([]byte("t"), max(chunk, 1))
		for written := int64(0); total <= 0 || written < total; {
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
			}
			p := piece
			if total > 0 {
				p = p[:min(int64(len(p)), total-written)]
			}
			if _, err := w.Write(p); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			written += int64(len(p))
		}
	})
}

// Endless answers 200 and streams a body that never ends, as fast as the client reads, until the request is canceled.
func Endless() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		piece := bytes.Repeat([]byte("e"), chunkSize)
		for r.Context().Err() == nil {
			if _, err := w.Write(piece); err != nil {
				return
			}
		}
	})
}

// Huge answers 200 with an n-byte body and a Content-Length announcing it.
func Huge(n int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		piece := bytes.Repeat([]byte("h"), chunkSize)
		for left := n; left > 0 && r.Context().Err() == nil; {
			p := piece[:min(int64(len(piece)), left)]
			if _, err := w.Write(p); err != nil {
				return
			}
			left -= int64(len(p))
		}
	})
}

// EndlessHeaders answers with a status line and then header lines (about 1 KiB each) without end: it takes over the
// connection and writes lines until the client hangs up, a write stalls for ten seconds, or total bytes are written
// (the bound that keeps a client without a header cap from looping forever); then it ends the headers and sends a
// short body, so that a client with a cap above total sees a valid response. It needs an HTTP/1 server (a plain
// httptest.NewServer), because HTTP/2 connections cannot be taken over.
func EndlessHeaders(total int64) http.Handler {
	line := []byte("X-Endless: " + strings.Repeat("h", 1024-len("X-Endless: \r\n")) + "\r\n")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, bw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			http.Error(w, "endless headers need an HTTP/1 connection", http.StatusInternalServerError)
			return
		}
		defer conn.Close()
		write := func(p []byte) bool {
			// A client that stops reading without closing must not block the handler, and the server's Close, forever.
			_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			_, err := bw.Write(p)
			return err == nil
		}
		if !write([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n")) {
			return
		}
		for written := int64(0); written < total; written += int64(len(line)) {
			if !write(line) {
				return
			}
		}
		if write([]byte("Content-Length: 3\r\n\r\nok\n")) {
			_ = bw.Flush()
		}
	})
}

// bombMember is the decompressed size of one gzip member of a bomb.
const bombMember = 1 << 20

// GzipBomb answers 200 with Content-Encoding gzip and a body that inflates to decompressedSize zero bytes while
// about a thousand times smaller on the wire. The body is one precomputed gzip member of 1 MiB of zeros repeated
// (RFC 1952 allows concatenated members), so serving it costs no compression work.
func GzipBomb(decompressedSize int64) http.Handler {
	member := gzipZeros(bombMember)
	tail := gzipZeros(int(decompressedSize % bombMember))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Encoding", "gzip")
		for range decompressedSize / bombMember {
			if r.Context().Err() != nil {
				return
			}
			if _, err := w.Write(member); err != nil {
				return
			}
		}
		_, _ = w.Write(tail)
	})
}

func gzipZeros(n int) []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression) // the level is valid, so there is no error
	_, _ = zw.Write(make([]byte, n))                       // writes to a bytes.Buffer do not fail
	_ = zw.Close()
	return b.Bytes()
}

// RedirectLoop redirects /a to /b and every other path to /a, so that a client starting anywhere loops /a → /b → /a.
func RedirectLoop() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		to := "/a"
		if r.URL.Path == "/a" {
			to = "/b"
		}
		http.Redirect(w, r, to, http.StatusFound)
	})
}

// RedirectChain answers any path with a chain of exactly n redirects, /hop/1 … /hop/n, the last of which answers 200.
func RedirectChain(n int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hop := 0
		if s, ok := strings.CutPrefix(r.URL.Path, "/hop/"); ok {
			hop, _ = strconv.Atoi(s)
		}
		if hop >= n {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = fmt.Fprintf(w, "end of a chain of %d redirects\n", n)
			return
		}
		http.Redirect(w, r, "/hop/"+strconv.Itoa(hop+1), http.StatusFound)
	})
}

// Latin1Text is the text, in UTF-8, that Latin1 and WrongCharset send encoded as ISO-8859-1.
const Latin1Text = "Café crème, naïve façade, Ærøskøbing: 1½ £"

// Latin1 answers an HTML page whose body holds Latin1Text encoded as ISO-8859-1. With metaOnly false the charset is
// declared only in the Content-Type header; with metaOnly true only by a <meta charset> element.
func Latin1(metaOnly bool) http.Handler {
	ct, meta := "text/html; charset=iso-8859-1", ""
	if metaOnly {
		ct, meta = "text/html", `<meta charset="iso-8859-1">`
	}
	return latin1Page(ct, meta)
}

// WrongCharset answers an HTML page whose Content-Type header claims UTF-8 while the body holds Latin1Text encoded as
// ISO-8859-1: a client must still produce valid UTF-8 (with replacement characters).
func WrongCharset() http.Handler {
	return latin1Page("text/html; charset=utf-8", "")
}

func latin1Page(contentType, meta string) http.Handler {
	var body []byte
	body = fmt.Appendf(body, "<!doctype html><html><head>%s<title>latin-1</title></head><body><p>", meta)
	for _, r := range Latin1Text {
		body = append(body, byte(r)) // every rune of Latin1Text is below U+0100
	}
	body = append(body, "</p></body></html>\n"...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(body)
	})
}

// Flaky answers the first failures requests with status and, if retryAfter is not empty, a Retry-After header of
// that value; later requests get 200. It is safe for concurrent use.
func Flaky(failures int, status int, retryAfter string) http.Handler {
	var count atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if count.Add(1) <= int64(failures) {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(status)
			_, _ = fmt.Fprintln(w, http.StatusText(status))
			return
		}
		_, _ = fmt.Fprintln(w, "ok")
	})
}

// Status answers every request with code and its status text as the body.
func Status(code int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(code)
		_, _ = fmt.Fprintln(w, http.StatusText(code))
	})
}
