package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Class is the closed set of reasons an attempt fails. It drives retries and the "errors by class" run statistics,
// so its values are stable strings.
type Class string

// Error classes.
const (
	ClassDNS        Class = "dns"             // the host name did not resolve
	ClassConnect    Class = "connect"         // the TCP connection was refused or could not be established
	ClassTimeout    Class = "timeout"         // the attempt exceeded Request.Timeout, or a network timeout
	ClassTLS        Class = "tls"             // TLS handshake or certificate failure
	ClassNetwork    Class = "network"         // connection reset, unexpected EOF and any other failure
	ClassHTTP4xx    Class = "http_4xx"        // the final response had a 4xx status
	ClassHTTP5xx    Class = "http_5xx"        // the final response had a 5xx status (or another non-2xx/3xx status)
	ClassTooLarge   Class = "too_large"       // the decoded body exceeded Request.MaxBody, or the headers Config.MaxHeaderBytes
	ClassRedirect   Class = "redirect"        // a redirect loop, too many redirects or an invalid redirect target
	ClassOutOfScope Class = "out_of_scope"    // Request.CheckRedirect vetoed a redirect
	ClassBlocked    Class = "blocked_network" // the address is private and Config.BlockPrivateNetworks is set
	ClassDecode     Class = "decode"          // a corrupt compressed body or an unsupported content encoding
	ClassRobots     Class = "robots"          // robots.txt disallows the URL; set by the crawler, never by fetch
	ClassCanceled   Class = "canceled"        // the caller's context was canceled
)

// Error is a failed attempt. URL is the URL of the failed hop (the final one after redirects, or the redirect target
// for ClassOutOfScope). Status is the final response's status whenever its headers arrived: always for ClassHTTP4xx
// and ClassHTTP5xx, and also for a failure while reading the body (ClassTooLarge for a body over MaxBody, ClassDecode,
// a timeout or a dropped connection mid-body); it is 0 when no response arrived, including ClassTooLarge for headers
// over Config.MaxHeaderBytes. RetryAfter is set when the response carried a valid Retry-After header, and Err is the
// underlying cause when there is one. Err never repeats URL: Error prints URL once.
type Error struct {
	Class      Class
	URL        string
	Status     int
	RetryAfter time.Duration
	Err        error
}

// Error implements the error interface.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fetch %s: %s", e.URL, e.Class)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": status %d", e.Status)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether another attempt may succeed: connection failures, timeouts, other network errors,
// temporary DNS failures (not NXDOMAIN, which is permanent), 429 and every 5xx except 501 Not Implemented. It is false
// for cancellation, oversized bodies, decode errors, TLS failures, redirects, blocked addresses and other 4xx.
func (e *Error) Retryable() bool {
	switch e.Class {
	case ClassConnect, ClassTimeout, ClassNetwork:
		return true
	case ClassDNS:
		var dnsErr *net.DNSError
		if errors.As(e.Err, &dnsErr) {
			return !dnsErr.IsNotFound && (dnsErr.IsTemporary || dnsErr.IsTimeout)
		}
		return false
	case ClassHTTP4xx:
		return e.Status == http.StatusTooManyRequests
	case ClassHTTP5xx:
		return e.Status != http.StatusNotImplemented
	default:
		return false
	}
}

// ClassOf returns the class of the first *Error in err's chain. A bare context.Canceled is ClassCanceled, any other
// non-nil error is ClassNetwork, and nil is "".
func ClassOf(err error) Class {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	if errors.Is(err, context.Canceled) {
		return ClassCanceled
	}
	return ClassNetwork
}

// errAttemptTimeout is the cancellation cause of an attempt's own deadline. Checking context.Cause for it tells a
// Request.Timeout apart from the caller's context ending, whatever error the transport surfaced on the way.
var errAttemptTimeout = errors.New("attempt timed out")

// classify maps a transport or body-read error to its class. parent is the caller's context, attempt the derived one.
func classify(parent, attempt context.Context, err error) Class {
	switch {
	case parent.Err() != nil:
		return ClassCanceled
	case errors.Is(context.Cause(attempt), errAttemptTimeout):
		return ClassTimeout
	}
	var (
		blocked *blockedError
		dnsErr  *net.DNSError
		opErr   *net.OpError
		netErr  net.Error
	)
	switch {
	case errors.As(err, &blocked):
		return ClassBlocked
	case isHeaderTooLarge(err):
		return ClassTooLarge
	case errors.As(err, &dnsErr):
		return ClassDNS
	case isTLSError(err):
		return ClassTLS
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return ClassTimeout
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return ClassConnect
	default:
		return ClassNetwork
	}
}

// isHeaderTooLarge reports whether err is net/http's refusal of response headers over Transport.MaxResponseHeaderBytes.
// net/http has no error value for it, only these messages (HTTP/1.1, then the HTTP/2 header list limit).
func isHeaderTooLarge(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "server response headers exceeded") ||
		strings.Contains(msg, "response header list larger than advertised limit")
}

// isTLSError reports whether err comes from a TLS handshake or certificate check. Some handshake failures are plain
// errors whose only mark is the "tls: " prefix of their message.
func isTLSError(err error) bool {
	var (
		recordErr  tls.RecordHeaderError
		alertErr   tls.AlertError
		verifyErr  *tls.CertificateVerificationError
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &recordErr), errors.As(err, &alertErr), errors.As(err, &verifyErr),
		errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalidErr):
		return true
	}
	return strings.Contains(err.Error(), "tls: ")
}
