package dashboard_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestLoginFlow: in the browser, a server with a token shows only its
// login page; a wrong token is refused there; the right one opens the
// overview, whose buttons change things through the session cookie and the
// CSRF header (starting a run); logging out goes back to the login page.
func TestLoginFlow(t *testing.T) {
	const token = "browser-token"
	site := demo(t, 20)
	srv := startService(t, token, nil)
	req, _ := http.NewRequest("PUT", srv.url+"/v1/spiders/quotes", strings.NewReader(
		"name: quotes\nstart_urls: ["+site.URL+"/]\nitems:\n  - css: div.quote\n    fields: {text: span.text}\n"))
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("put spider: %v %v", res, err)
	}
	res.Body.Close()

	b := newBrowser(t)
	b.run(t, "the login page", chromedp.Navigate(srv.url+"/"), chromedp.WaitVisible(css(`input#token`)))
	if loc := get(t, b, "location", chromedp.Location()); !strings.HasSuffix(loc, "/login") {
		t.Errorf("without the token / went to %s, want /login", loc)
	}
	b.shot(t, "login")
	b.run(t, "wrong token", chromedp.SendKeys(css(`#token`), "nope"), chromedp.Submit(css(`#token`)),
		chromedp.WaitVisible(css(`#login-error`)))
	b.run(t, "right token", chromedp.SendKeys(css(`#token`), token), chromedp.Submit(css(`#token`)),
		chromedp.WaitVisible(css(`body[data-ready="overview"]`)), chromedp.WaitVisible(css(`#logout`)))
	// Scripts cannot read the session cookie.
	if c := get(t, b, "cookies", chromedp.Evaluate[string](`document.cookie`)); strings.Contains(c, token) || !strings.Contains(c, "trawl_csrf=") {
		t.Errorf("document.cookie = %q: want the CSRF cookie only", c)
	}
	// A write without the CSRF header is refused, as a forged one would be.
	status := get(t, b, "forged write", chromedp.Evaluate[int](`fetch("/v1/spiders/quotes/runs", {method: "POST"}).then(r => r.status)`,
		chromedp.EvalAwaitPromise))
	if status != http.StatusForbidden {
		t.Errorf("POST without the CSRF header from the page: %d, want 403", status)
	}
	b.forget(t, "status of 403") // the browser logs the refusal the test caused
	b.run(t, "start from the overview", chromedp.Click(css(`button[data-start="quotes"]`)),
		chromedp.WaitVisible(css(`body[data-ready="run"]`)))
	b.noErrors(t, "logged in")
	b.run(t, "log out", chromedp.Click(css(`#logout`)), chromedp.WaitVisible(css(`input#token`)))
	b.run(t, "still out", chromedp.Navigate(srv.url+"/runs/1"), chromedp.WaitVisible(css(`input#token`)))
	b.noErrors(t, "logged out")
}
