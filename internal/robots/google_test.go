package robots_test

import (
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/robots"
)

// googleSuite is testdata/google_robotstxt.json: the verdict cases of google/robotstxt's robots_test.cc. The
// crawler's end-to-end test (internal/crawl/robots_e2e_test.go) runs the same file.
type googleSuite struct {
	Cases []struct {
		Test   string `json:"test"`
		Robots string `json:"robots"`
		Checks []struct {
			Agent    string `json:"agent"`
			URL      string `json:"url"`
			Allowed  bool   `json:"allowed"`
			Note     string `json:"note"`
			UnitOnly string `json:"unit_only"`
			Sent     string `json:"sent"`
		} `json:"checks"`
	} `json:"cases"`
}

var (
	repeatRE = regexp.MustCompile(`\{\{(.)\*(\d+)\}\}`)
	octetRE  = regexp.MustCompile(`\\x[0-9A-Fa-f]{2}`)
)

// expand replaces {{X*N}} with N copies of X and \xHH with the octet.
func expand(s string) string {
	s = repeatRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := repeatRE.FindStringSubmatch(m)
		n, _ := strconv.Atoi(sub[2])
		return strings.Repeat(sub[1], n)
	})
	return octetRE.ReplaceAllStringFunc(s, func(m string) string {
		v, _ := strconv.ParseUint(m[2:], 16, 8)
		return string([]byte{byte(v)})
	})
}

// requestTarget returns the path and query of an absolute URL exactly as written, without the fragment.
func requestTarget(u string) string {
	u, _, _ = strings.Cut(u, "#")
	if _, rest, ok := strings.Cut(u, "://"); ok {
		if i := strings.IndexAny(rest, "/?"); i >= 0 {
			return rest[i:]
		}
		return "/"
	}
	return u
}

// TestGoogleCases runs every verdict case of google/robotstxt's robots_test.cc through Parse, Group and Allowed.
func TestGoogleCases(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/google_robotstxt.json")
	if err != nil {
		t.Fatal(err)
	}
	var suite googleSuite
	if err := json.Unmarshal(data, &suite); err != nil {
		t.Fatal(err)
	}
	if len(suite.Cases) == 0 {
		t.Fatal("no cases")
	}
	for i, c := range suite.Cases {
		t.Run(strconv.Itoa(i)+"_"+c.Test, func(t *testing.T) {
			t.Parallel()
			r := robots.Parse([]byte(expand(c.Robots)))
			for _, ch := range c.Checks {
				target := requestTarget(expand(ch.URL))
				if got := r.Group(ch.Agent).Allowed(target); got != ch.Allowed {
					t.Errorf("agent %q: Allowed(%.80q) = %v, want %v %s", ch.Agent, target, got, ch.Allowed, ch.Note)
				}
			}
		})
	}
}

// TestGoogleSitemap ports robots_test.cc ID_NonStandardLineExample_Sitemap: a sitemap line is read wherever it is.
func TestGoogleSitemap(t *testing.T) {
	t.Parallel()
	const loc = "http://foo.bar/sitemap.xml"
	const rest = "User-Agent: foo\nAllow: /some/path\nUser-Agent: bar\n\n\n"
	for _, body := range []string{rest + "Sitemap: " + loc + "\n", "Sitemap: " + loc + "\n" + rest} {
		if diff := cmp.Diff([]string{loc}, robots.Parse([]byte(body)).Sitemaps()); diff != "" {
			t.Errorf("Sitemaps() of %q (-want +got):\n%s", body, diff)
		}
	}
}
