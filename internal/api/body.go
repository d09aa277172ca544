package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// readBody reads the request body, at most max bytes: a larger body (by its
// Content-Length or as read) is an *http.MaxBytesError, answered 413.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, &http.MaxBytesError{Limit: max}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var me *http.MaxBytesError
		if errors.As(err, &me) {
			return nil, me
		}
		return nil, trawl.Errorf(trawl.EINVALID, "read request body: %v", err)
	}
	return b, nil
}

// mediaType returns the media type of the request's Content-Type, lower
// case and without parameters; "" when there is none.
func mediaType(r *http.Request) (string, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return "", nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", trawl.Errorf(trawl.EINVALID, "malformed Content-Type %q", ct)
	}
	return strings.ToLower(mt), nil
}

// decodeJSONBody decodes an optional JSON body into v strictly: the
// Content-Type must be application/json (or absent with an empty body),
// unknown members and trailing data are errors. It reports whether there
// was a body.
func decodeJSONBody(w http.ResponseWriter, r *http.Request, max int64, v any) (bool, error) {
	b, err := readBody(w, r, max)
	if err != nil {
		return false, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return false, nil
	}
	mt, err := mediaType(r)
	if err != nil {
		return false, err
	}
	if mt != "application/json" {
		return false, &statusError{status: http.StatusUnsupportedMediaType, code: codeUnsupportedMediaType,
			msg: fmt.Sprintf("the body must be JSON with Content-Type: application/json, not %q", mt)}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return false, trawl.Errorf(trawl.EINVALID, "malformed JSON body: %s", jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return false, trawl.Errorf(trawl.EINVALID, "malformed JSON body: data after the JSON value")
	}
	return true, nil
}

// jsonProblem says what is wrong with a JSON body without Go type names.
func jsonProblem(err error) string {
	var (
		se *json.SyntaxError
		te *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("%v at byte %d", se, se.Offset)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("%s must be a %s", te.Field, jsonKind(te.Type.Kind().String()))
		}
		return "the body must be a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of the body"
	}
	// "json: unknown field \"x\"" and time parse errors.
	return strings.TrimPrefix(err.Error(), "json: ")
}

// jsonKind names a Go kind as JSON does.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "bool":
		return "boolean"
	}
	return "number"
}

// formatBytes writes n as KiB or MiB when it is a whole number of them.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
