package api

import (
	"fmt"
	"net/http"
)

// recoverPanic turns a panic in a handler into a 500 problem (logged, with
// no details for the client) instead of a dropped connection.
// http.ErrAbortHandler passes through: it is how a streamed export that
// failed half-way cuts the connection, so the client sees it incomplete.
func recoverPanic(s *server) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.writeError(w, r, fmt.Errorf("panic: %v", v))
			}()
			next.ServeHTTP(w, r)
		})
	}
}
