package trawl

import (
	"errors"
	"fmt"
)

// Error codes. They are stable: the API returns them as the `code` member of
// problem+json documents and the CLI maps them to exit codes.
const (
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	EUNAUTHORIZED = "unauthorized"
	ECANCELED     = "canceled"
	EINTERNAL     = "internal"

	// EFORBIDDEN: the caller is known but may not do this (the API's
	// read-only token on a route that changes something).
	EFORBIDDEN = "forbidden"
	// ETOOLARGE: a request body over the size limit.
	ETOOLARGE = "too_large"
	// EINVALIDSPIDER: a spider that does not validate; the API answers it
	// with every problem (a *spider.ValidationError, which the CLI reports
	// as EINVALID).
	EINVALIDSPIDER = "invalid_spider"
)

// Error is an error a user may see: a stable code and a message safe to show.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("trawl error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or a
// generic message for internal errors, whose details must not reach users.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// Sentinel causes of a run's context cancellation (context.WithCancelCause).
var (
	// ErrRunCanceled: a user canceled the run; it ends as canceled.
	ErrRunCanceled = errors.New("run canceled")
	// ErrShutdown: the process is stopping; the run stays resumable.
	ErrShutdown = errors.New("shutting down")
)
