package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// auth requires "Authorization: Bearer TOKEN" on /v1 and /debug/pprof/ when
// a token is configured. readToken, when set, is accepted on GET and HEAD
// only. /healthz, /readyz and /metrics stay open.
func auth(token, readToken string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if token == "" {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !protected(r.URL.Path) {
				next.ServeHTTP(w, r)
				return
			}
			got, ok := bearer(r)
			switch {
			case ok && equal(got, token):
				next.ServeHTTP(w, r)
			case ok && readToken != "" && equal(got, readToken):
				if r.Method != http.MethodGet && r.Method != http.MethodHead {
					writeProblem(w, problemOf(trawl.Errorf(trawl.EFORBIDDEN,
						"the read-only token may only use GET routes: use the token to %s", r.Method)))
					return
				}
				next.ServeHTTP(w, r)
			default:
				w.Header().Set("WWW-Authenticate", `Bearer realm="trawl"`)
				msg := "missing bearer token: send Authorization: Bearer TOKEN"
				if ok {
					msg = "invalid bearer token"
				}
				writeProblem(w, problemOf(trawl.Errorf(trawl.EUNAUTHORIZED, "%s", msg)))
			}
		})
	}
}

// protected reports whether path needs the token.
func protected(path string) bool {
	return path == "/v1" || strings.HasPrefix(path, "/v1/") || strings.HasPrefix(path, "/debug/")
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// equal compares in constant time, so that the time taken does not tell
// how much of a guess was right; comparing digests hides the length too.
func equal(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
