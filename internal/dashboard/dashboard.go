// Package dashboard serves trawl's web dashboard: an embedded single-page
// application (HTML, CSS, JavaScript modules and vendored libraries) that
// does everything through the public HTTP API v1, and the login page that
// turns the API token into the session cookie the API accepts. It is an
// http.Handler that internal/api mounts at / (api.Config.Dashboard).
package dashboard

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/trawl-dev/trawl/internal/api"
)

//go:embed assets
var assets embed.FS

//go:embed login.html
var loginHTML string

// sessionAge is how long the session cookies last.
const sessionAge = 30 * 24 * time.Hour

// Config configures the dashboard.
type Config struct {
	// Token and ReadToken are the API's (api.Config): the login page
	// accepts either and keeps it in the session cookie. With no Token the
	// dashboard is open and the login page sends the browser on to /.
	Token, ReadToken string
}

// Handler serves the dashboard.
type Handler struct {
	cfg    Config
	static http.Handler
	index  []byte
	login  *template.Template
}

// New returns the dashboard's handler.
func New(cfg Config) (*Handler, error) {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, fmt.Errorf("dashboard: assets: %w", err)
	}
	index, err := fs.ReadFile(sub, "index.html")
	if err != nil {
		return nil, fmt.Errorf("dashboard: index: %w", err)
	}
	login, err := template.New("login").Parse(loginHTML)
	if err != nil {
		return nil, fmt.Errorf("dashboard: login page: %w", err)
	}
	return &Handler{
		cfg:    cfg,
		static: http.StripPrefix("/assets/", http.FileServerFS(sub)),
		index:  index,
		login:  login,
	}, nil
}

// ServeHTTP serves the login page and its form (/login), logout
// (POST /logout), the assets (/assets/...) and, for any other GET, the
// application's page, which routes by the path in the browser.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "same-origin")
	switch {
	case r.URL.Path == api.LoginPath && r.Method == http.MethodPost:
		h.postLogin(w, r)
	case r.URL.Path == api.LoginPath && safe(r.Method):
		h.getLogin(w, r)
	case r.URL.Path == "/logout" && r.Method == http.MethodPost:
		h.logout(w, r)
	case strings.HasPrefix(r.URL.Path, "/assets/") && safe(r.Method):
		w.Header().Set("Cache-Control", "no-cache")
		h.static.ServeHTTP(w, r)
	case safe(r.Method):
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Security-Policy", csp)
		w.Write(h.index)
	default:
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// csp allows the dashboard's own scripts, styles and API only.
const csp = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

func (h *Handler) getLogin(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Token == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	h.login.Execute(w, struct{ Failed bool }{r.URL.Query().Has("failed")})
}

// postLogin checks the token of the form and, when it is the token or the
// read token, sets the session and CSRF cookies.
func (h *Handler) postLogin(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Token == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	// A login form posted from another site would log the browser in
	// with the other site's token: refuse a foreign Origin.
	if o := r.Header.Get("Origin"); o != "" {
		if u, err := url.Parse(o); err != nil || u.Host != r.Host {
			http.Error(w, "cross-site login refused", http.StatusForbidden)
			return
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	tok := strings.TrimSpace(r.PostFormValue("token"))
	if tok == "" || !(equal(tok, h.cfg.Token) || h.cfg.ReadToken != "" && equal(tok, h.cfg.ReadToken)) {
		http.Redirect(w, r, api.LoginPath+"?failed", http.StatusSeeOther)
		return
	}
	var b [16]byte
	rand.Read(b[:])
	secure := r.TLS != nil
	http.SetCookie(w, &http.Cookie{Name: api.SessionCookie, Value: tok, Path: "/", MaxAge: int(sessionAge.Seconds()),
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: api.CSRFCookie, Value: hex.EncodeToString(b[:]), Path: "/", MaxAge: int(sessionAge.Seconds()),
		Secure: secure, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout clears the cookies. It is behind the token and the CSRF check
// (the API's middleware), so another site cannot log a user out.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	for _, name := range []string{api.SessionCookie, api.CSRFCookie} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: name == api.SessionCookie,
			SameSite: http.SameSiteStrictMode})
	}
	w.WriteHeader(http.StatusNoContent)
}

func safe(method string) bool { return method == http.MethodGet || method == http.MethodHead }

// equal compares in constant time.
func equal(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
