package fetch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Fetch performs one attempt to fetch req.URL, following redirects within the request's limits.
//
// A 2xx or 3xx final response returns (*Response, nil). A 4xx or 5xx final response returns the *Response (status,
// headers and the body, silently truncated at MaxBody) together with an *Error of class ClassHTTP4xx or ClassHTTP5xx
// carrying the status and any Retry-After. Every other failure returns (nil, *Error). An invalid request (nil or
// relative URL, a scheme other than http and https, no UserAgent) is a programming error and returns a plain error.
func (c *Client) Fetch(ctx context.Context, req *Request) (*Response, error) {
	if err := validateRequest(req); err != nil {
		return nil, err
	}
	start := c.cfg.Now()
	attempt, cancel := context.WithTimeoutCause(ctx, positiveOr(req.Timeout, TimeoutDefault), errAttemptTimeout)
	defer cancel()

	maxRedirects := cmp.Or(req.MaxRedirects, MaxRedirectsDefault)
	method := cmp.Or(req.Method, http.MethodGet)
	header := requestHeader(req)
	u := stripFragment(req.URL)
	seen := map[string]bool{u.String(): true}
	for hops := 0; ; hops++ {
		hresp, err := c.http.Do(newHTTPRequest(attempt, method, u, header))
		if err != nil {
			return nil, &Error{Class: classify(ctx, attempt, err), URL: u.String(), Err: unwrapURLError(err)}
		}
		loc := redirectLocation(hresp)
		if loc == "" || maxRedirects < 0 {
			return c.finish(ctx, attempt, req, hresp, u, hops, start)
		}
		drain(hresp.Body)

		target, err := nextHop(u, loc, hops, maxRedirects, seen)
		if err != nil {
			return nil, err
		}
		if req.CheckRedirect != nil {
			if err := req.CheckRedirect(target); err != nil {
				return nil, &Error{Class: ClassOutOfScope, URL: target.String(), Err: fmt.Errorf("redirect from %s: %w", u, err)}
			}
		}
		seen[target.String()] = true
		if !sameHost(req.URL, target) {
			// Credentials meant for the first host must not leak to another (net/http drops them the same way).
			for _, k := range []string{"Authorization", "Cookie", "Proxy-Authorization", "Www-Authenticate"} {
				header.Del(k)
			}
		}
		if method != http.MethodHead && (hresp.StatusCode == http.StatusSeeOther ||
			(method == http.MethodPost && hresp.StatusCode <= http.StatusFound)) {
			method = http.MethodGet
		}
		u = target
	}
}

// positiveOr returns v, or def when v is zero or negative.
func positiveOr[T int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

func validateRequest(req *Request) error {
	switch {
	case req == nil || req.URL == nil:
		return errors.New("fetch: request has no url")
	case req.URL.Scheme != "http" && req.URL.Scheme != "https":
		return fmt.Errorf("fetch %s: scheme must be http or https", req.URL)
	case req.URL.Host == "":
		return fmt.Errorf("fetch %s: url has no host", req.URL)
	case req.UserAgent == "":
		return fmt.Errorf("fetch %s: request has no user agent", req.URL)
	}
	return nil
}

// requestHeader builds the headers shared by every hop.
func requestHeader(req *Request) http.Header {
	h := req.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("User-Agent", req.UserAgent)
	if h.Get("Accept") == "" {
		h.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,application/json;q=0.9,*/*;q=0.8")
	}
	// Only the codings readBody decodes; the transport's transparent gzip is off.
	h.Set("Accept-Encoding", "gzip, deflate")
	return h
}

func newHTTPRequest(ctx context.Context, method string, u *url.URL, header http.Header) *http.Request {
	r := (&http.Request{
		Method:     method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     header.Clone(),
		Host:       u.Host,
	}).WithContext(ctx)
	if host := header.Get("Host"); host != "" {
		r.Host = host
	}
	return r
}

// redirectLocation returns the Location of a redirect response, or "" when hresp is not one to follow.
func redirectLocation(hresp *http.Response) string {
	switch hresp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return hresp.Header.Get("Location")
	}
	return ""
}

// nextHop resolves and checks a redirect target: an http(s) URL, within the hop cap, never seen before.
func nextHop(from *url.URL, loc string, hops, maxRedirects int, seen map[string]bool) (*url.URL, error) {
	target, err := from.Parse(loc)
	if err != nil {
		return nil, &Error{Class: ClassRedirect, URL: from.String(), Err: fmt.Errorf("parse location %q: %w", loc, err)}
	}
	target = stripFragment(target)
	switch {
	case target.Scheme != "http" && target.Scheme != "https":
		return nil, &Error{Class: ClassRedirect, URL: from.String(), Err: fmt.Errorf("redirect to unsupported scheme %q", target.Scheme)}
	case target.Host == "":
		return nil, &Error{Class: ClassRedirect, URL: from.String(), Err: fmt.Errorf("redirect to %q without host", loc)}
	case hops >= maxRedirects:
		return nil, &Error{Class: ClassRedirect, URL: from.String(), Err: fmt.Errorf("stopped after %d redirects", hops)}
	case seen[target.String()]:
		return nil, &Error{Class: ClassRedirect, URL: from.String(), Err: fmt.Errorf("redirect loop back to %s", target)}
	}
	return target, nil
}

// finish reads the final response into a *Response and turns an error status into an *Error.
func (c *Client) finish(parent, attempt context.Context, req *Request, hresp *http.Response, u *url.URL, hops int, start time.Time) (*Response, error) {
	defer hresp.Body.Close()
	resp := &Response{URL: u, Status: hresp.StatusCode, Header: hresp.Header, Redirects: hops}
	ok := hresp.StatusCode >= 200 && hresp.StatusCode < 400
	var statusErr *Error
	if !ok {
		statusErr = &Error{Class: ClassHTTP5xx, URL: u.String(), Status: hresp.StatusCode,
			RetryAfter: parseRetryAfter(hresp.Header.Get("Retry-After"), c.cfg.Now())}
		if hresp.StatusCode >= 400 && hresp.StatusCode < 500 {
			statusErr.Class = ClassHTTP4xx
		}
	}

	b, err := readBody(parent, attempt, req, hresp, ok)
	resp.WireBytes = b.wire
	resp.Duration = c.cfg.Now().Sub(start)
	if err != nil {
		if statusErr != nil {
			// The status is the news; a broken error page is not worth reporting over it.
			return resp, statusErr
		}
		err.URL, err.Status = u.String(), hresp.StatusCode
		return nil, err
	}
	resp.Body, resp.Truncated = b.body, b.truncated
	resp.ContentType, resp.Charset, resp.Body = decodeText(hresp.Header.Get("Content-Type"), resp.Body)
	if statusErr != nil {
		return resp, statusErr
	}
	return resp, nil
}

func sameHost(a, b *url.URL) bool {
	return strings.EqualFold(a.Host, b.Host)
}

func stripFragment(u *url.URL) *url.URL {
	c := *u
	c.Fragment, c.RawFragment = "", ""
	return &c
}

// drain reads a little of a discarded body so that the connection can be reused, then closes it.
func drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}

// unwrapURLError removes the *url.Error wrapper that http.Client adds: Error already names the URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
