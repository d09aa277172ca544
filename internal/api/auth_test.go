package api_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/trawl-dev/trawl/internal/api"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// TestAuth: with a token every /v1 route and pprof need it; the read token
// may GET but not change anything; health, readiness and metrics stay
// open; no token reaches the log.
func TestAuth(t *testing.T) {
	t.Parallel()
	const token, readToken = "s3cret-token", "viewer-token"
	b := setup(t, func(c *api.Config) {
		c.Token, c.ReadToken, c.Pprof = token, readToken, true
		c.Metrics = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "trawl_up 1\n") })
	})
	full := []string{"Authorization", "Bearer " + token}
	read := []string{"Authorization", "Bearer " + readToken}
	spider := spiderYAML("quotes", "http://q.example")
	yamlCT := "application/yaml"

	tests := []struct {
		name, method, path, body string
		header                   []string
		status                   int
		code                     string // "" for a success
	}{
		{"no token", "GET", "/v1/runs", "", nil, 401, "unauthorized"},
		{"no token, unknown route", "GET", "/v1/nope", "", nil, 401, "unauthorized"},
		{"no token, document", "GET", "/v1/openapi.json", "", nil, 401, "unauthorized"},
		{"wrong token", "GET", "/v1/runs", "", []string{"Authorization", "Bearer nope"}, 401, "unauthorized"},
		{"token prefix", "GET", "/v1/runs", "", []string{"Authorization", "Bearer " + token[:5]}, 401, "unauthorized"},
		{"not bearer", "GET", "/v1/runs", "", []string{"Authorization", "Basic " + token}, 401, "unauthorized"},
		{"token", "GET", "/v1/runs", "", full, 200, ""},
		{"token puts", "PUT", "/v1/spiders/quotes", spider, append([]string{"Content-Type", yamlCT}, full...), 201, ""},
		{"read token gets", "GET", "/v1/spiders/quotes", "", read, 200, ""},
		{"read token lists", "GET", "/v1/datasets", "", read, 200, ""},
		{"read token may not put", "PUT", "/v1/spiders/quotes", spider, append([]string{"Content-Type", yamlCT}, read...), 403, "forbidden"},
		{"read token may not delete", "DELETE", "/v1/spiders/quotes", "", read, 403, "forbidden"},
		{"read token may not start runs", "POST", "/v1/spiders/quotes/runs", "", read, 403, "forbidden"},
		{"read token may not cancel", "POST", "/v1/runs/1/cancel", "", read, 403, "forbidden"},
		{"healthz is open", "GET", "/healthz", "", nil, 200, ""},
		{"readyz is open", "GET", "/readyz", "", nil, 200, ""},
		{"metrics are open", "GET", "/metrics", "", nil, 200, ""},
		{"pprof needs the token", "GET", "/debug/pprof/", "", nil, 401, "unauthorized"},
		{"pprof with the token", "GET", "/debug/pprof/", "", full, 200, ""},
		{"pprof profile with the token", "GET", "/debug/pprof/goroutine?debug=1", "", full, 200, ""},
	}
	for _, tt := range tests {
		r := b.do(t, tt.method, tt.path, tt.body, tt.header...)
		if tt.code != "" {
			r.mustProblem(t, tt.status, tt.code)
			if tt.status == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s: 401 without WWW-Authenticate", tt.name)
			}
			continue
		}
		if r.status != tt.status {
			t.Errorf("%s: %s %s: status %d, want %d: %s", tt.name, tt.method, tt.path, r.status, tt.status, r.body)
		}
	}
	if r := b.do(t, "GET", "/metrics", ""); string(r.body) != "trawl_up 1\n" {
		t.Errorf("/metrics body = %q", r.body)
	}
	logs := b.logs.String()
	if strings.Contains(logs, token) || strings.Contains(logs, readToken) {
		t.Errorf("a token reached the log:\n%s", logs)
	}
	for _, want := range []string{"method=GET path=/v1/runs status=401", "method=PUT path=/v1/spiders/quotes status=403",
		"method=PUT path=/v1/spiders/quotes status=201"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the request log lacks %q:\n%s", want, logs)
		}
	}
}

// TestConfig: New refuses a config it cannot serve.
func TestConfig(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	tests := []struct {
		name string
		cfg  api.Config
	}{
		{"no store", api.Config{Queue: b.queue}},
		{"no queue", api.Config{Store: b.db}},
		{"read token alone", api.Config{Store: b.db, Queue: b.queue, ReadToken: "r"}},
		{"same tokens", api.Config{Store: b.db, Queue: b.queue, Token: "t", ReadToken: "t"}},
		{"negative body cap", api.Config{Store: b.db, Queue: b.queue, MaxBodyBytes: -1}},
	}
	for _, tt := range tests {
		if _, err := api.New(tt.cfg); err == nil {
			t.Errorf("%s: New accepted the config", tt.name)
		}
	}
}

// TestReadyz: /readyz answers 503 unavailable while ReadyFunc fails, and
// does not show the error's internal details.
func TestReadyz(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		fail error
	)
	setFail := func(err error) { mu.Lock(); fail = err; mu.Unlock() }
	b := setup(t, func(c *api.Config) {
		c.ReadyFunc = func(context.Context) error { mu.Lock(); defer mu.Unlock(); return fail }
	})
	b.do(t, "GET", "/readyz", "").mustJSON(t, 200, nil)
	setFail(errors.New("dial tcp 10.1.2.3:5432: connection refused"))
	p := b.do(t, "GET", "/readyz", "").mustProblem(t, 503, "unavailable")
	if strings.Contains(p.Detail, "10.1.2.3") {
		t.Errorf("detail leaks the internal error: %q", p.Detail)
	}
	setFail(trawl.Errorf(trawl.EINVALID, "schema version 9 is newer than this trawl"))
	p = b.do(t, "GET", "/readyz", "").mustProblem(t, 503, "unavailable")
	if !strings.Contains(p.Detail, "schema version 9") {
		t.Errorf("detail %q lacks the reason", p.Detail)
	}
	b.do(t, "GET", "/healthz", "").mustJSON(t, 200, nil)
}
