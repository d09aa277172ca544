package api

import (
	"log/slog"
	"net/http"
	"time"
)

// requestLog logs one line per request: method, path (without the query,
// which may hold filter values but never a token), status, bytes written
// and duration. Headers, and so tokens, are never logged. Probes and
// scrapes (/healthz, /readyz, /metrics), which come every few seconds, are
// logged at DEBUG unless they fail.
func requestLog(log *slog.Logger, now func() time.Time) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := now()
			rec := &recorder{ResponseWriter: w}
			defer func() {
				status := rec.status
				if status == 0 {
					status = http.StatusOK
				}
				level := slog.LevelInfo
				if quiet(r.URL.Path) && status < 500 {
					level = slog.LevelDebug
				}
				log.LogAttrs(r.Context(), level, "request",
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
					slog.Int("status", status),
					slog.Int64("bytes", rec.bytes),
					slog.Duration("duration", now().Sub(start)),
				)
			}()
			next.ServeHTTP(rec, r)
		})
	}
}

// recorder remembers the status and counts the bytes of a response. It
// passes Flush through and unwraps for http.ResponseController, which the
// event stream and the exports need.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// quiet reports whether path is a probe's or a scraper's.
func quiet(path string) bool {
	return path == "/healthz" || path == "/readyz" || path == "/metrics"
}
