package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// Codes of protocol errors, which no store or queue reports: they are
// decided by the router and the request checks alone.
const (
	codeMethodNotAllowed     = "method_not_allowed"
	codeUnsupportedMediaType = "unsupported_media_type"
	codeUnavailable          = "unavailable"
)

// statusOf maps every error code the API answers with to its HTTP status.
// docs/api.md lists the same table.
func statusOf(code string) int {
	switch code {
	case trawl.EINVALID:
		return http.StatusBadRequest
	case trawl.EINVALIDSPIDER:
		return http.StatusUnprocessableEntity
	case trawl.ENOTFOUND:
		return http.StatusNotFound
	case trawl.ECONFLICT:
		return http.StatusConflict
	case trawl.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case trawl.EFORBIDDEN:
		return http.StatusForbidden
	case trawl.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case codeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case codeUnsupportedMediaType:
		return http.StatusUnsupportedMediaType
	case trawl.ECANCELED, codeUnavailable:
		return http.StatusServiceUnavailable
	default: // EINTERNAL and anything unknown
		return http.StatusInternalServerError
	}
}

// problem is an RFC 9457 problem details document.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	// Errors lists every problem of an invalid spider (code invalid_spider).
	Errors []spider.Problem `json:"errors,omitempty"`
}

// problemTypeBase prefixes a code to make the problem's type URI; the page
// documents every code.
const problemTypeBase = "https://github.com/trawl-dev/trawl/blob/main/docs/api.md#error-codes"

// statusError is an error decided by the API itself, with its own status
// and code (protocol errors and /readyz).
type statusError struct {
	status int
	code   string
	msg    string
}

func (e *statusError) Error() string { return e.code + ": " + e.msg }

// spiderError is an invalid spider: 422 with every problem.
type spiderError struct {
	problems []spider.Problem
}

func (e *spiderError) Error() string { return "invalid spider" }

// handler is the shape of every API handler: it writes a response or
// returns an error, which writeError answers.
type handler func(w http.ResponseWriter, r *http.Request) error

// handle adapts h to an http.HandlerFunc that answers its errors.
func (s *server) handle(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

// writeError answers err as problem+json. Internal errors are logged with
// their details, which never reach the client.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	p := problemOf(err)
	if p.Status >= 500 && p.Code != codeUnavailable {
		if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
			// The client went away: nobody reads the answer.
			s.log.Debug("request canceled", "method", r.Method, "path", r.URL.Path, "error", err)
		} else {
			s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		}
	}
	writeProblem(w, p)
}

// problemOf builds the problem document of err.
func problemOf(err error) problem {
	var (
		se *statusError
		ve *spiderError
		me *http.MaxBytesError
		p  problem
	)
	switch {
	case errors.As(err, &se):
		p = problem{Status: se.status, Code: se.code, Detail: se.msg}
	case errors.As(err, &ve):
		p = problem{Status: http.StatusUnprocessableEntity, Code: trawl.EINVALIDSPIDER,
			Detail: "the spider is invalid: see errors for every problem", Errors: ve.problems}
	case errors.As(err, &me):
		p = problem{Status: http.StatusRequestEntityTooLarge, Code: trawl.ETOOLARGE,
			Detail: "the request body is larger than the limit of " + formatBytes(me.Limit)}
	default:
		code := trawl.ErrorCode(err)
		p = problem{Status: statusOf(code), Code: code, Detail: trawl.ErrorMessage(err)}
	}
	p.Type = problemTypeBase
	p.Title = http.StatusText(p.Status)
	return p
}

// writeProblem writes p with its status.
func writeProblem(w http.ResponseWriter, p problem) {
	b, err := json.Marshal(p)
	if err != nil { // a problem is plain strings and numbers
		b = []byte(`{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"internal error","code":"internal"}`)
		p.Status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Disposition")
	w.WriteHeader(p.Status)
	w.Write(append(b, '\n'))
}

// writeJSON encodes v into a buffer first, so that an encoding failure
// never sends a half-written success.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, err := w.Write(b.Bytes())
	return err
}
