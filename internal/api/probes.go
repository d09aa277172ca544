package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// Probes returns the operational routes alone, for a process that serves
// no API (trawl worker): GET /healthz, GET /readyz (cfg.ReadyFunc) and,
// with cfg.Metrics, GET /metrics, answered exactly as New answers them.
// Every other path is a problem+json 404. The other fields of cfg are
// ignored.
func Probes(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &server{cfg: cfg, log: cfg.Logger, now: cfg.Now}
	r := chi.NewRouter()
	r.Use(requestLog(s.log, s.now), recoverPanic(s))
	r.NotFound(s.handle(func(_ http.ResponseWriter, r *http.Request) error {
		return trawl.Errorf(trawl.ENOTFOUND, "no route %s: this process serves /healthz, /readyz and /metrics only", r.URL.Path)
	}))
	r.Get("/healthz", s.handle(s.healthz))
	r.Get("/readyz", s.handle(s.readyz))
	if cfg.Metrics != nil {
		r.Method(http.MethodGet, "/metrics", cfg.Metrics)
	}
	return r
}
