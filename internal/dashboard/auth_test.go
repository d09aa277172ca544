package dashboard_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/trawl-dev/trawl/internal/api"
)

// noRedirect is a client that shows redirects instead of following them.
func noRedirect(jar http.CookieJar) *http.Client {
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func send(t *testing.T, c *http.Client, method, u string, body io.Reader, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// TestSessionAuth: with a token, nothing but the login page is served
// without it; logging in sets an HttpOnly, SameSite=Strict session cookie
// that the API accepts for reads, and for writes only with the CSRF header
// matching the CSRF cookie; the read token's session cannot write; a wrong
// token or a login posted from another origin sets nothing.
func TestSessionAuth(t *testing.T) {
	const token, readToken = "s3cret-token", "read-only"
	srv := startServiceRead(t, token, readToken)
	jar, _ := cookiejar.New(nil)
	c := noRedirect(jar)

	for _, path := range []string{"/", "/runs/1", "/assets/app.css", "/assets/js/app.js", "/assets/vendor/uplot/uPlot.iife.min.js"} {
		res := send(t, c, "GET", srv.url+path, nil)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
			t.Errorf("GET %s without the token: %s to %q, want 303 to /login", path, res.Status, res.Header.Get("Location"))
		}
	}
	if res := send(t, c, "GET", srv.url+"/v1/runs", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /v1/runs without the token: %s", res.Status)
	}
	if res := send(t, c, "GET", srv.url+"/login", nil); res.StatusCode != http.StatusOK {
		t.Errorf("GET /login: %s", res.Status)
	}

	form := func(tok string) io.Reader { return strings.NewReader(url.Values{"token": {tok}}.Encode()) }
	ct := []string{"Content-Type", "application/x-www-form-urlencoded"}
	res := send(t, c, "POST", srv.url+"/login", form("wrong"), ct...)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login?failed") || len(res.Cookies()) != 0 {
		t.Errorf("wrong token: %s to %q with %d cookies", res.Status, res.Header.Get("Location"), len(res.Cookies()))
	}
	res = send(t, c, "POST", srv.url+"/login", form(token), append(ct, "Origin", "http://evil.example")...)
	if res.StatusCode != http.StatusForbidden || len(res.Cookies()) != 0 {
		t.Errorf("cross-site login: %s with %d cookies, want 403 and none", res.Status, len(res.Cookies()))
	}

	res = send(t, c, "POST", srv.url+"/login", form(token), append(ct, "Origin", srv.url)...)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("login: %s to %q", res.Status, res.Header.Get("Location"))
	}
	var session, csrf *http.Cookie
	for _, ck := range res.Cookies() {
		switch ck.Name {
		case api.SessionCookie:
			session = ck
		case api.CSRFCookie:
			csrf = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/" {
		t.Fatalf("session cookie = %+v, want HttpOnly, SameSite=Strict, Path=/", session)
	}
	if csrf == nil || csrf.HttpOnly || csrf.SameSite != http.SameSiteStrictMode || len(csrf.Value) < 32 {
		t.Fatalf("CSRF cookie = %+v, want readable by scripts, SameSite=Strict, random", csrf)
	}

	for _, path := range []string{"/", "/assets/app.css", "/v1/runs"} {
		if res := send(t, c, "GET", srv.url+path, nil); res.StatusCode != http.StatusOK {
			t.Errorf("GET %s with the session: %s", path, res.Status)
		}
	}
	put := func(header ...string) int {
		return send(t, c, "PUT", srv.url+"/v1/spiders/s", strings.NewReader(validSpider),
			append([]string{"Content-Type", "application/yaml"}, header...)...).StatusCode
	}
	if got := put(); got != http.StatusForbidden {
		t.Errorf("PUT with the session and no CSRF header: %d, want 403", got)
	}
	if got := put(api.CSRFHeader, "forged"); got != http.StatusForbidden {
		t.Errorf("PUT with a wrong CSRF header: %d, want 403", got)
	}
	if got := put(api.CSRFHeader, csrf.Value); got != http.StatusCreated {
		t.Errorf("PUT with the CSRF header: %d, want 201", got)
	}
	// The bearer header needs no CSRF header: a script sets it itself.
	bare := noRedirect(nil)
	if res := send(t, bare, "DELETE", srv.url+"/v1/spiders/s", nil, "Authorization", "Bearer "+token); res.StatusCode != http.StatusNoContent {
		t.Errorf("DELETE with the bearer token: %s", res.Status)
	}

	// The read token's session reads, and cannot write even with CSRF.
	jar2, _ := cookiejar.New(nil)
	r := noRedirect(jar2)
	res = send(t, r, "POST", srv.url+"/login", form(readToken), ct...)
	var csrf2 string
	for _, ck := range res.Cookies() {
		if ck.Name == api.CSRFCookie {
			csrf2 = ck.Value
		}
	}
	if res := send(t, r, "GET", srv.url+"/v1/spiders", nil); res.StatusCode != http.StatusOK {
		t.Errorf("read session GET: %s", res.Status)
	}
	if res := send(t, r, "POST", srv.url+"/v1/spiders/s/runs", nil, api.CSRFHeader, csrf2); res.StatusCode != http.StatusForbidden {
		t.Errorf("read session POST: %s, want 403", res.Status)
	}

	// Logging out needs the CSRF header too, and clears the cookies.
	if res := send(t, c, "POST", srv.url+"/logout", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("logout without CSRF: %s, want 403", res.Status)
	}
	if res := send(t, c, "POST", srv.url+"/logout", nil, api.CSRFHeader, csrf.Value); res.StatusCode != http.StatusNoContent {
		t.Errorf("logout: %s", res.Status)
	}
	if res := send(t, c, "GET", srv.url+"/", nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("GET / after logout: %s, want 303 to /login", res.Status)
	}
}

const validSpider = "name: s\nstart_urls: [http://127.0.0.1:1/]\nitems:\n  - css: p\n    fields: {t: p}\n"

// TestOpenServer: without a token the dashboard is served to anyone (the
// server listens on loopback only), /login sends on to /, and the API's
// routes keep their problem answers.
func TestOpenServer(t *testing.T) {
	srv := startService(t, "", nil)
	c := noRedirect(nil)
	for path, want := range map[string]int{"/": 200, "/datasets/x": 200, "/assets/app.css": 200, "/assets/vendor/codemirror/LICENSE": 200,
		"/assets/nope.js": 404, "/login": 303, "/v1/nope": 404, "/healthz": 200} {
		if res := send(t, c, "GET", srv.url+path, nil); res.StatusCode != want {
			t.Errorf("GET %s: %s, want %d", path, res.Status, want)
		}
	}
	res := send(t, c, "GET", srv.url+"/", nil)
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("CSP = %q", csp)
	}
}
