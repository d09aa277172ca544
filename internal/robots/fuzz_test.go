package robots_test

import (
	"testing"

	"github.com/trawl-dev/trawl/internal/robots"
)

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"",
		"User-agent: *\nDisallow: /\n",
		"User-agent: *\nDisallow: /robots.txt\nDisallow: /*\nDisallow: *$\n",
		"User-agent: trawl\r\nAllow: /a*b$\r\nDisallow: /%7E%zz%\r\n",
		"\xEF\xBB\xBFuser-agent: TRAWL/1\rdisallow: /ä\rcrawl-delay: 1e308\rsitemap: x\r",
		"Disallow: /\nUser-agent\nUser-agent: :\nAllow: $\nDisallow: **\n# c\n:\n",
		"User-agent: * \nDisallow: /a$b$\nDisallow: \x00\xff\n",
		"\xEF\xBBuser agent trawl\ndissalow /x y\ndisallow /%62%61%7A\nAllow: /d/index.html\nsite-map: s\n",
	} {
		f.Add([]byte(seed), "/some/path?q=1")
	}
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		r := robots.Parse(body)
		for _, agent := range []string{"trawl/1.0", "other", ""} {
			g := r.Group(agent)
			for _, p := range []string{"/robots.txt", "/robots.txt?x=" + path} {
				if !g.Allowed(p) {
					t.Fatalf("Group(%q).Allowed(%q) = false, want true", agent, p)
				}
			}
			g.Allowed(path)
			if d := g.CrawlDelay(); d < 0 || d > robots.MaxCrawlDelay {
				t.Fatalf("CrawlDelay() = %v, want within [0, %v]", d, robots.MaxCrawlDelay)
			}
		}
	})
}
