// Package api serves trawl's HTTP API v1 as an http.Handler: spiders, runs
// and their live events, datasets and their items, with problem+json errors,
// bearer-token auth, a request log and the OpenAPI document of all of it.
package api

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// Queue starts and stops runs; the service's job queue (internal/jobs)
// implements it.
type Queue interface {
	// Submit creates a queued run of the stored spider and enqueues it to
	// start at runAt (zero = now). Returns ENOTFOUND for an unknown spider,
	// ECONFLICT (naming the active run's id) when a run of that spider is
	// already queued or running.
	Submit(ctx context.Context, spider string, runAt time.Time) (*trawl.Run, error)
	// Cancel cancels a queued run at once or asks a running run to stop.
	// Returns the run as it is after the request; ENOTFOUND for an unknown
	// run, ECONFLICT when the run already finished.
	Cancel(ctx context.Context, runID int64) (*trawl.Run, error)
	// SyncSchedule makes the periodic schedule of spider match its stored
	// version (added, changed, or removed when the spider was deleted or
	// has no schedule).
	SyncSchedule(ctx context.Context, spider string) error
}

// Defaults of Config.
const (
	DefaultMaxBodyBytes  = 1 << 20
	DefaultEventInterval = time.Second
)

// Config configures the handler New returns. Store and Queue are required.
type Config struct {
	// Store holds spiders, runs and items.
	Store store.Store
	// Queue starts, cancels and schedules runs.
	Queue Queue
	// Token, when set, is required on every /v1 route and on /debug/pprof/
	// as "Authorization: Bearer TOKEN". "" leaves the API open.
	Token string
	// ReadToken, when set, is a second token that may use GET and HEAD
	// only (other methods get 403 forbidden). Requires Token.
	ReadToken string
	// Logger receives the request log (method, path, status, bytes,
	// duration; never headers) and the details of internal errors. nil
	// discards them.
	Logger *slog.Logger
	// MaxBodyBytes caps a request body; a larger one gets 413 too_large.
	// 0 means DefaultMaxBodyBytes (1 MiB).
	MaxBodyBytes int64
	// ReadyFunc reports whether the service can serve (database reachable,
	// schema current); /readyz answers 503 when it returns an error. nil
	// means always ready.
	ReadyFunc func(ctx context.Context) error
	// Metrics, when set, is served at GET /metrics (no token needed, like
	// /healthz, so that a scraper needs no secret).
	Metrics http.Handler
	// Pprof mounts net/http/pprof under /debug/pprof/, behind Token.
	Pprof bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// DryRunFunc answers POST /v1/try; nil answers it 503 unavailable.
	DryRunFunc DryRunFunc
	// Dashboard, when set, serves every path that is not the API's
	// (internal/dashboard: the web dashboard at /). With a Token, it is
	// behind the token as well, but for its login page; the session
	// cookie it sets is accepted by the API (see SessionCookie).
	Dashboard http.Handler
	// EventInterval is the period of the progress snapshots of the run
	// events stream. 0 means DefaultEventInterval (1 s).
	EventInterval time.Duration
}

func (c *Config) validate() error {
	switch {
	case c.Store == nil:
		return fmt.Errorf("api: Config.Store is required")
	case c.Queue == nil:
		return fmt.Errorf("api: Config.Queue is required")
	case c.ReadToken != "" && c.Token == "":
		return trawl.Errorf(trawl.EINVALID, "a read token needs a token as well: set the token too")
	case c.ReadToken != "" && c.ReadToken == c.Token:
		return trawl.Errorf(trawl.EINVALID, "the read token must differ from the token")
	case c.MaxBodyBytes < 0:
		return trawl.Errorf(trawl.EINVALID, "max body bytes %d: must be 0 (default) or more", c.MaxBodyBytes)
	case c.EventInterval < 0:
		return trawl.Errorf(trawl.EINVALID, "event interval %s: must be 0 (default) or more", c.EventInterval)
	}
	return nil
}

// server holds the handlers' dependencies.
type server struct {
	cfg     Config
	st      store.Store
	queue   Queue
	log     *slog.Logger
	now     func() time.Time
	openapi []byte // the OpenAPI document, encoded once
}

// New returns the API as an http.Handler, or an error for a bad Config.
func New(cfg Config) (http.Handler, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.MaxBodyBytes = cmp.Or(cfg.MaxBodyBytes, DefaultMaxBodyBytes)
	cfg.EventInterval = cmp.Or(cfg.EventInterval, DefaultEventInterval)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	doc, err := json.Marshal(openAPIDocument(cfg.Metrics != nil))
	if err != nil {
		return nil, fmt.Errorf("api: encode openapi document: %w", err)
	}
	s := &server{cfg: cfg, st: cfg.Store, queue: cfg.Queue, log: cfg.Logger, now: cfg.Now, openapi: doc}
	return s.routes(), nil
}

// routes builds the router. The OpenAPI document lists the same routes; a
// test compares them.
func (s *server) routes() *chi.Mux {
	r := chi.NewRouter()
	r.Use(requestLog(s.log, s.now), recoverPanic(s), auth(s.cfg.Token, s.cfg.ReadToken, s.cfg.Dashboard != nil))
	notFound := s.handle(func(_ http.ResponseWriter, r *http.Request) error {
		return trawl.Errorf(trawl.ENOTFOUND, "no route %s", r.URL.Path)
	})
	// The dashboard answers what the API does not route, outside /v1 and
	// /debug, so that it adds no route to the API's (nor to its OpenAPI
	// document).
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Dashboard != nil && !apiPath(r.URL.Path) {
			s.cfg.Dashboard.ServeHTTP(w, r)
			return
		}
		notFound(w, r)
	})
	r.MethodNotAllowed(s.methodNotAllowed(r))

	r.Get("/healthz", s.handle(s.healthz))
	r.Get("/readyz", s.handle(s.readyz))
	if s.cfg.Metrics != nil {
		r.Method(http.MethodGet, "/metrics", s.cfg.Metrics)
	}
	if s.cfg.Pprof {
		r.HandleFunc("/debug/pprof/*", pprof.Index)
		r.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		r.HandleFunc("/debug/pprof/profile", pprof.Profile)
		r.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		r.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}

	r.Route("/v1", func(r chi.Router) {
		r.Get("/openapi.json", s.handle(s.openAPI))

		r.Get("/spiders", s.handle(s.listSpiders))
		r.Get("/spiders/{name}", s.handle(s.getSpider))
		r.Put("/spiders/{name}", s.handle(s.putSpider))
		r.Delete("/spiders/{name}", s.handle(s.deleteSpider))
		r.Post("/spiders/{name}/runs", s.handle(s.submitRun))

		r.Get("/runs", s.handle(s.listRuns))
		r.Get("/runs/{id}", s.handle(s.getRun))
		r.Post("/runs/{id}/cancel", s.handle(s.cancelRun))
		r.Get("/runs/{id}/events", s.handle(s.runEvents))
		r.Get("/runs/{id}/hosts", s.handle(s.runHosts))
		r.Get("/runs/{id}/failed", s.handle(s.runFailed))
		r.Get("/runs/{id}/series", s.handle(s.runSeries))

		r.Get("/schedules", s.handle(s.listSchedules))
		r.Post("/try", s.handle(s.try))

		r.Get("/datasets", s.handle(s.listDatasets))
		r.Get("/datasets/{name}/items", s.handle(s.items))
		r.Get("/datasets/{name}/items.csv", s.handle(s.exportCSV))
		r.Get("/datasets/{name}/items.jsonl", s.handle(s.exportJSONL))
		r.Get("/datasets/{name}/fields/{field}", s.handle(s.fieldValues))
	})
	return r
}

// methodNotAllowed answers 405 with the Allow header listing the methods
// the path has.
func (s *server) methodNotAllowed(mux *chi.Mux) http.HandlerFunc {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete} {
			if mux.Match(chi.NewRouteContext(), m, r.URL.Path) {
				allow = append(allow, m)
			}
		}
		for _, m := range allow {
			w.Header().Add("Allow", m)
		}
		return &statusError{status: http.StatusMethodNotAllowed, code: codeMethodNotAllowed,
			msg: fmt.Sprintf("%s is not allowed on %s", r.Method, r.URL.Path)}
	})
}

func (s *server) healthz(w http.ResponseWriter, _ *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.ReadyFunc != nil {
		if err := s.cfg.ReadyFunc(r.Context()); err != nil {
			s.log.Warn("not ready", "error", err)
			return &statusError{status: http.StatusServiceUnavailable, code: codeUnavailable, msg: "not ready: " + trawl.ErrorMessage(err)}
		}
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *server) openAPI(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(s.openapi)
	return err
}
