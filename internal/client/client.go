// Package client is a Go client of trawl's HTTP API v1 (docs/api.md): stored
// spiders, runs and their live events, datasets and their items, with the
// API's problem+json errors decoded into *Error.
package client

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// maxErrorBody caps how much of an error answer is read.
const maxErrorBody = 1 << 20

// Client calls one trawl server. It is safe for concurrent use.
type Client struct {
	base  *url.URL
	token string
	hc    *http.Client
}

// New returns a client of the server at baseURL (http or https, with an
// optional path prefix when the server sits behind a proxy), sending token
// as a bearer token when it is not empty, over hc (nil means a client of
// its own). hc should have no Timeout: it would cut the event stream of
// WatchRun and long exports; bound calls with their context instead.
// Returns EINVALID for a base URL that is not http(s)://HOST[/PREFIX].
func New(baseURL, token string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, trawl.Errorf(trawl.EINVALID, "invalid server URL %q: want http://HOST:PORT or https://HOST[/PREFIX]", baseURL)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{base: u, token: token, hc: hc}, nil
}

// URL returns the server's base URL.
func (c *Client) URL() string { return c.base.String() }

// Error is an error answer of the server: its application/problem+json
// document (RFC 9457), or what can be said of an answer without one.
type Error struct {
	Status int    // the HTTP status
	Code   string // the stable code: invalid, not_found, conflict, unauthorized, invalid_spider, ...
	Title  string
	Detail string
	// Problems are the spider's validation problems of a 422 answer with
	// code invalid_spider, each with its path, line and column.
	Problems []spider.Problem
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("server answered %d %s: %s", e.Status, e.Code, e.Message())
}

// Message is the error's text for users: the detail, else the title.
func (e *Error) Message() string {
	switch {
	case e.Detail != "":
		return e.Detail
	case e.Title != "":
		return e.Title
	}
	return strings.ToLower(http.StatusText(e.Status))
}

// Unwrap returns the error as a *trawl.Error with the server's code and
// message, so that trawl.ErrorCode and trawl.ErrorMessage read them.
func (e *Error) Unwrap() error { return &trawl.Error{Code: e.Code, Message: e.Message()} }

// problem is the problem+json document of API v1.
type problem struct {
	Type   string           `json:"type"`
	Title  string           `json:"title"`
	Status int              `json:"status"`
	Detail string           `json:"detail"`
	Code   string           `json:"code"`
	Errors []spider.Problem `json:"errors"`
}

// decodeError reads an error answer: a problem+json (or JSON) document
// when the server sent one, else an error named after the status.
func decodeError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &Error{Status: resp.StatusCode, Code: statusCode(resp.StatusCode)}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	var p problem
	if (mt == "application/problem+json" || mt == "application/json") && json.Unmarshal(body, &p) == nil {
		e.Title, e.Detail, e.Problems = p.Title, p.Detail, p.Errors
		if p.Code != "" {
			e.Code = p.Code
		}
		return e
	}
	// Not trawl's answer (a proxy's error page, say): name the status, and
	// show a short text body, which often says why.
	e.Title = fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	if text := strings.TrimSpace(string(body)); text != "" && len(text) <= 200 && !strings.ContainsAny(text, "<>") {
		e.Detail = e.Title + ": " + text
	}
	return e
}

// statusCode is the trawl error code of an HTTP status, for answers that
// carry none.
func statusCode(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge:
		return trawl.EINVALID
	case http.StatusUnauthorized, http.StatusForbidden:
		return trawl.EUNAUTHORIZED
	case http.StatusNotFound:
		return trawl.ENOTFOUND
	case http.StatusConflict:
		return trawl.ECONFLICT
	}
	return trawl.EINTERNAL
}

// request is one API call.
type request struct {
	method      string
	path        string // under the base URL, e.g. /v1/runs/3
	query       url.Values
	body        []byte
	contentType string
	accept      string // "" = application/json
	header      http.Header
}

// send performs r and returns the response of a 2xx answer; any other
// answer is decoded into *Error.
func (c *Client) send(ctx context.Context, r request) (*http.Response, error) {
	u := *c.base
	u.Path += r.path
	u.RawQuery = r.query.Encode()
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", cmp.Or(r.accept, "application/json"))
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, fmt.Errorf("cannot reach the server at %s: %w", c.base.Host, unwrapURLError(err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		return nil, decodeError(resp)
	}
	return resp, nil
}

// unwrapURLError drops the *url.Error wrapper, whose text repeats the
// whole URL, keeping the cause (connection refused, ...).
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// call performs r and decodes a JSON answer into out (nil: discard it).
// It returns the answer's status.
func (c *Client) call(ctx context.Context, r request, out any) (int, error) {
	resp, err := c.send(ctx, r)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return resp.StatusCode, nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return 0, fmt.Errorf("%s %s: decode answer: %w", r.method, r.path, err)
	}
	return resp.StatusCode, nil
}
