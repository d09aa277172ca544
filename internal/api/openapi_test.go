package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/go-chi/chi/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/api"
)

var update = flag.Bool("update", false, "rewrite testdata/openapi.json")

// loadDocument fetches /v1/openapi.json from h and loads it with
// kin-openapi.
func loadDocument(t *testing.T, h http.Handler, token string) ([]byte, *openapi3.T) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/v1/openapi.json", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /v1/openapi.json: status %d: %s", rec.Code, rec.Body)
	}
	doc, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("load openapi document: %v", err)
	}
	return rec.Body.Bytes(), doc
}

// TestOpenAPIDocument: the served document is valid OpenAPI 3, lists
// exactly the routes the router serves, and matches testdata/openapi.json
// (go test -update rewrites it).
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	db := setup(t, nil).db
	h, err := api.New(api.Config{Store: db, Queue: &crawlQueue{}, Metrics: http.NotFoundHandler()})
	if err != nil {
		t.Fatal(err)
	}
	raw, doc := loadDocument(t, h, "")
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the document does not validate: %v", err)
	}

	var served []string
	err = chi.Walk(h.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		served = append(served, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatalf("walk routes: %v", err)
	}
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	slices.Sort(served)
	slices.Sort(documented)
	if diff := cmp.Diff(documented, served); diff != "" {
		t.Errorf("served routes differ from the document (-documented +served):\n%s", diff)
	}
	if len(served) < 17 {
		t.Errorf("only %d routes served: %v", len(served), served)
	}

	var pretty bytes.Buffer
	if err := json.Indent(&pretty, raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.WriteByte('\n')
	golden := filepath.Join("testdata", "openapi.json")
	if *update {
		if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden (go test -update writes it): %v", err)
	}
	if diff := cmp.Diff(string(want), pretty.String()); diff != "" {
		t.Errorf("document differs from %s (go test -update rewrites it):\n%s", golden, diff)
	}
}

// validator is a RoundTripper that checks every JSON and problem+json
// response of a documented route against the OpenAPI document, status
// included (an undocumented status is an error).
type validator struct {
	t         *testing.T
	router    routers.Router
	validated atomic.Int64
}

// newValidator loads the document of h (token opens it when set).
func newValidator(t *testing.T, h http.Handler, token string) *validator {
	t.Helper()
	_, doc := loadDocument(t, h, token)
	r, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("openapi router: %v", err)
	}
	return &validator{t: t, router: r}
}

func (v *validator) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if mt != "application/json" && mt != "application/problem+json" && res.StatusCode != http.StatusNoContent {
		return res, nil // streams: read by the test as they come
	}
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return res, nil // not a documented route or method: the tests check the problem
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
		v.t.Errorf("%s %s: response %d does not match the OpenAPI document: %v\nbody: %s",
			req.Method, req.URL.RequestURI(), res.StatusCode, firstLines(err.Error(), 6), body)
	} else {
		v.validated.Add(1)
	}
	return res, nil
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}
