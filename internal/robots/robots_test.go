package robots_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/robots"
)

const ua = "trawl/0.1.0-dev (+https://github.com/trawl-dev/trawl)"

// check is one question to a parsed robots.txt.
type check struct {
	path string
	want bool
}

type rfcCase struct {
	name   string
	body   string
	ua     string // default ua
	checks []check
}

func runCases(t *testing.T, tests []rfcCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			agent := tt.ua
			if agent == "" {
				agent = ua
			}
			g := robots.Parse([]byte(tt.body)).Group(agent)
			for _, c := range tt.checks {
				if got := g.Allowed(c.path); got != c.want {
					t.Errorf("Allowed(%q) = %v, want %v", c.path, got, c.want)
				}
			}
		})
	}
}

func TestAllowedRFC9309(t *testing.T) {
	t.Parallel()
	runCases(t, []rfcCase{
		{
			name:   "2.1 no file content allows everything",
			body:   "",
			checks: []check{{"/", true}, {"/anything", true}},
		},
		{
			name: "2.2.1 groups naming the product token are merged",
			body: "User-agent: trawl\nDisallow: /a\n\nUser-agent: other\nDisallow: /b\n\nUser-agent: TRAWL\nDisallow: /c\n",
			checks: []check{
				{"/a", false}, {"/b", true}, {"/c", false}, {"/d", true},
			},
		},
		{
			name: "2.2.1 star groups are merged when no group names the token",
			body: "User-agent: *\nDisallow: /a\n\nUser-agent: other\nDisallow: /b\n\nUser-agent: *\nDisallow: /c\n",
			checks: []check{
				{"/a", false}, {"/b", true}, {"/c", false},
			},
		},
		{
			name: "2.2.1 a named group replaces the star groups",
			body: "User-agent: *\nDisallow: /\n\nUser-agent: trawl\nDisallow: /private\n",
			checks: []check{
				{"/", true}, {"/page", true}, {"/private", false},
			},
		},
		{
			name:   "2.2.1 no matching group allows everything",
			body:   "User-agent: other\nDisallow: /\n",
			checks: []check{{"/", true}, {"/x", true}},
		},
		{
			name: "2.2.1 consecutive user-agent lines form one group",
			body: "User-agent: other\nUser-agent: trawl\nDisallow: /shared\n",
			checks: []check{
				{"/shared", false}, {"/other", true},
			},
		},
		{
			name: "2.2.1 product token with version matches case-insensitively",
			body: "User-agent: Trawl/2.0\nDisallow: /v\n",
			checks: []check{
				{"/v", false},
			},
		},
		{
			name:   "2.2.1 a longer token does not match",
			body:   "User-agent: trawler\nDisallow: /\n",
			checks: []check{{"/", true}},
		},
		{
			name:   "2.2.1 a shorter token does not match",
			body:   "User-agent: traw\nDisallow: /\n",
			checks: []check{{"/", true}},
		},
		{
			name: "2.2.1 blank lines do not end a group",
			body: "User-agent: trawl\n\nDisallow: /a\n\nDisallow: /b\n",
			checks: []check{
				{"/a", false}, {"/b", false},
			},
		},
		{
			name: "2.2.4 sitemap and unknown lines do not end a group",
			body: "User-agent: other\nSitemap: https://x.example/s.xml\nFoo: bar\nUser-agent: trawl\nDisallow: /s\n",
			checks: []check{
				{"/s", false},
			},
		},
		{
			name: "2.2.4 crawl-delay does not split user-agent lines",
			body: "User-agent: other\nCrawl-delay: 3\nUser-agent: trawl\nDisallow: /cd\n",
			checks: []check{
				{"/cd", false},
			},
		},
		{
			name: "2.1 rules before any user-agent are ignored",
			body: "Disallow: /\nAllow: /x\nUser-agent: trawl\nDisallow: /y\n",
			checks: []check{
				{"/", true}, {"/a", true}, {"/y", false},
			},
		},
		{
			name: "2.2.2 rules match a path prefix",
			body: "User-agent: *\nDisallow: /fish\n",
			checks: []check{
				{"/fish", false}, {"/fish.html", false}, {"/fish/salmon", false}, {"/fishheads?x=1", false},
				{"/Fish", true}, {"/catfish", true}, {"/", true},
			},
		},
		{
			name: "2.2.2 rules see the query",
			body: "User-agent: *\nDisallow: /search?q=\n",
			checks: []check{
				{"/search?q=x", false}, {"/search", true}, {"/search?page=2", true},
			},
		},
		{
			name: "2.2.2 longest match wins",
			body: "User-agent: *\nDisallow: /a\nAllow: /a/b\nDisallow: /a/b/c\n",
			checks: []check{
				{"/a", false}, {"/a/x", false}, {"/a/b", true}, {"/a/b/x", true}, {"/a/b/c", false},
			},
		},
		{
			name: "2.2.2 longest match wins regardless of order",
			body: "User-agent: *\nAllow: /folder/page\nDisallow: /folder\n",
			checks: []check{
				{"/folder/page", true}, {"/folder/other", false},
			},
		},
		{
			name: "2.2.2 allow wins a tie",
			body: "User-agent: *\nDisallow: /page\nAllow: /page\n",
			checks: []check{
				{"/page", true},
			},
		},
		{
			name: "2.2.2 allow wins a tie between wildcard rules",
			body: "User-agent: *\nDisallow: /*.php\nAllow: /page$\n",
			checks: []check{
				{"/a.php", false}, {"/page", true},
			},
		},
		{
			name: "2.2.2 empty disallow matches nothing",
			body: "User-agent: *\nDisallow:\n",
			checks: []check{
				{"/", true}, {"/x", true},
			},
		},
		{
			name: "2.2.2 empty allow matches nothing",
			body: "User-agent: *\nDisallow: /\nAllow:\n",
			checks: []check{
				{"/", false}, {"/x", false},
			},
		},
		{
			name: "2.2.2 /robots.txt is always allowed",
			body: "User-agent: *\nDisallow: /\nDisallow: /robots.txt\n",
			checks: []check{
				{"/robots.txt", true}, {"/robots.txt?x=1", true}, {"/robots.txt2", false}, {"/", false},
			},
		},
		{
			name: "2.2.3 star matches any sequence",
			body: "User-agent: *\nDisallow: /*.php\nDisallow: /a*b*c\n",
			checks: []check{
				{"/index.php", false}, {"/x/y.php?z", false}, {"/php", true},
				{"/a-b-c", false}, {"/abc", false}, {"/acb", true},
			},
		},
		{
			name: "2.2.3 dollar anchors the end",
			body: "User-agent: *\nDisallow: /*.php$\nDisallow: /exact$\n",
			checks: []check{
				{"/index.php", false}, {"/index.php?x", true}, {"/index.phps", true},
				{"/exact", false}, {"/exact/", true},
			},
		},
		{
			name: "2.2.3 dollar inside a pattern is literal",
			body: "User-agent: *\nDisallow: /a$b\n",
			checks: []check{
				{"/a$b", false}, {"/a%24b/c", false}, {"/a", true},
			},
		},
		{
			name: "2.2.3 percent-encoded star in a pattern matches a literal star",
			body: "User-agent: *\nDisallow: /path/file-with-a-%2A.html\n",
			checks: []check{
				{"/path/file-with-a-*.html", false}, {"/path/file-with-a-x.html", true},
			},
		},
		{
			name: "2.2.3 a pattern starting with star",
			body: "User-agent: *\nDisallow: *private\n",
			checks: []check{
				{"/a/private", false}, {"/public", true},
			},
		},
		{
			// The RFC's table decodes %62%61%7A to baz; Google's ID_Encoding test says it must not.
			name: "2.2.2 escapes are compared as written, not decoded",
			body: "User-agent: *\nDisallow: /%7Efoo\nDisallow: /b%61r\n",
			checks: []check{
				{"/~foo", true}, {"/%7efoo", false}, {"/%7Efoo", false}, {"/bar", true}, {"/b%61r", false}, {"/baz", true},
			},
		},
		{
			name: "2.2.2 non-ASCII patterns equal their UTF-8 percent-encoding",
			body: "User-agent: *\nDisallow: /ä\nDisallow: /foo/bar/%e3%83%84\n",
			checks: []check{
				{"/%C3%A4", false}, {"/%c3%a4x", false}, {"/ä", false}, {"/foo/bar/ツ", false}, {"/a", true},
			},
		},
		{
			name: "2.2.2 reserved escapes are not decoded",
			body: "User-agent: *\nDisallow: /a%2Fb\n",
			checks: []check{
				{"/a%2fb", false}, {"/a/b", true},
			},
		},
		{
			name: "2.2.2 a pattern without leading slash is read as starting with one",
			body: "User-agent: *\nDisallow: private\n",
			checks: []check{
				{"/private", false}, {"/public", true},
			},
		},
		{
			name: "2.2 keys are case-insensitive and whitespace is trimmed",
			body: "  USER-AGENT :  *  \n\tdIsAlLoW\t:\t/x  \n",
			checks: []check{
				{"/x", false}, {"/y", true},
			},
		},
		{
			name: "2.2 comments are stripped",
			body: "# header\nUser-agent: * # everyone\nDisallow: /x # not /y\n#Disallow: /z\n",
			checks: []check{
				{"/x", false}, {"/y", true}, {"/z", true},
			},
		},
		{
			// Google's ID_LineSyntax_Line: a missing colon is read when the line has exactly two words.
			name: "2.2 a line without a colon is read when it has two words",
			body: "User-agent trawl\nDisallow /x\nDisallow /y z\nDisallow:/w\n",
			checks: []check{
				{"/x", false}, {"/y", true}, {"/w", false},
			},
		},
		{
			name: "2.2 a UTF-8 byte order mark is skipped",
			body: "\xEF\xBB\xBFUser-agent: *\nDisallow: /bom\n",
			checks: []check{
				{"/bom", false},
			},
		},
		{
			// fetch decodes robots.txt to UTF-8: a partial byte order mark arrives as U+FFFD.
			name: "2.2 a decoded partial byte order mark is skipped",
			body: "\uFFFD\uFFFDUser-agent: *\nDisallow: /bom\n",
			checks: []check{
				{"/bom", false},
			},
		},
		{
			name: "2.2 CRLF line ends",
			body: "User-agent: *\r\nDisallow: /crlf\r\n\r\nUser-agent: trawl\r\nDisallow: /t\r\n",
			checks: []check{
				{"/crlf", true}, {"/t", false},
			},
		},
		{
			name: "2.2 CR line ends",
			body: "User-agent: trawl\rDisallow: /cr\rAllow: /cr/ok\r",
			checks: []check{
				{"/cr", false}, {"/cr/ok", true},
			},
		},
		{
			name: "2.2.1 a user agent without a product token matches only star",
			ua:   "1234",
			body: "User-agent: trawl\nDisallow: /t\nUser-agent: *\nDisallow: /s\n",
			checks: []check{
				{"/t", true}, {"/s", false},
			},
		},
		{
			name:   "2.2.2 an empty path means the root",
			body:   "User-agent: *\nDisallow: /$\n",
			checks: []check{{"", false}, {"/x", true}},
		},
	})
}

// TestAllowedWhereTemotoDeviates pins down the RFC 9309 behaviour in the cases where github.com/temoto/robotstxt
// decides differently (its behaviour is in each comment).
func TestAllowedWhereTemotoDeviates(t *testing.T) {
	t.Parallel()
	runCases(t, []rfcCase{
		{
			// temoto: strings.HasPrefix(ua, agent) → the "trawl" group applies to "trawler".
			name:   "2.2.1 a group for a prefix of the token does not apply",
			ua:     "trawler/1.0",
			body:   "User-agent: trawl\nDisallow: /\n",
			checks: []check{{"/", true}},
		},
		{
			// temoto: the group "trawl/1.0" is not a prefix of "trawl/2.0", so the star group applies.
			name:   "2.2.1 the group's product token ignores its version",
			ua:     "trawl/2.0",
			body:   "User-agent: *\nDisallow: /\nUser-agent: Trawl/1.0\nAllow: /\n",
			checks: []check{{"/page", true}},
		},
		{
			// temoto: the first of two equally long rules wins.
			name:   "2.2.2 allow wins a tie whatever the order",
			body:   "User-agent: *\nDisallow: /page\nAllow: /page\n",
			checks: []check{{"/page", true}},
		},
		{
			// temoto: a wildcard rule's length is its regexp's (`/.*\.html`, 9) → the disallow wins.
			name:   "2.2.2 wildcard rules are measured in pattern octets",
			body:   "User-agent: *\nDisallow: /*.html\nAllow: /page.ht\n",
			checks: []check{{"/page.html", true}, {"/other.html", false}},
		},
		{
			// temoto: every "$" becomes an end anchor, so the rule never matches.
			name:   "2.2.3 only a final dollar anchors",
			body:   "User-agent: *\nDisallow: /price$list\n",
			checks: []check{{"/price$list", false}},
		},
		{
			// temoto: no percent-encoding normalisation.
			name:   "2.2.2 percent-encoding is normalised",
			body:   "User-agent: *\nDisallow: /%7euser\nDisallow: /café\n",
			checks: []check{{"/%7Euser", false}, {"/caf%C3%A9", false}, {"/caf%c3%a9", false}},
		},
		{
			// temoto: a rule before any user-agent is a parse error and FromBytes fails for the whole file.
			name:   "2.1 rules before any user-agent do not spoil the file",
			body:   "Disallow: /x\nUser-agent: *\nDisallow: /y\n",
			checks: []check{{"/x", true}, {"/y", false}},
		},
		{
			// temoto: an invalid crawl-delay is a parse error and FromBytes fails for the whole file.
			name:   "2.2.4 an invalid crawl-delay does not spoil the file",
			body:   "User-agent: *\nCrawl-delay: soon\nDisallow: /y\n",
			checks: []check{{"/y", false}},
		},
		{
			// temoto: crawl-delay ends the run of user-agent lines, so "other" gets no rules.
			name:   "2.2.4 crawl-delay does not interfere with grouping",
			ua:     "other",
			body:   "User-agent: other\nCrawl-delay: 1\nUser-agent: trawl\nDisallow: /\n",
			checks: []check{{"/", false}},
		},
	})
}

func TestCrawlDelay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		ua   string
		want time.Duration
	}{
		{"none", "User-agent: *\nDisallow: /x\n", ua, 0},
		{"seconds", "User-agent: *\nCrawl-delay: 2\n", ua, 2 * time.Second},
		{"decimal", "User-agent: *\nCrawl-delay: 0.5\n", ua, 500 * time.Millisecond},
		{"max of merged groups", "User-agent: trawl\nCrawl-delay: 1\nDisallow: /a\nUser-agent: trawl\nCrawl-delay: 3\nDisallow: /b\nUser-agent: *\nCrawl-delay: 9\n", ua, 3 * time.Second},
		{"from star group", "User-agent: trawl\nDisallow: /x\nUser-agent: *\nCrawl-delay: 4\n", "other", 4 * time.Second},
		{"named group without delay ignores star", "User-agent: trawl\nDisallow: /x\nUser-agent: *\nCrawl-delay: 4\n", ua, 0},
		{"capped", "User-agent: *\nCrawl-delay: 86400\n", ua, robots.MaxCrawlDelay},
		{"invalid ignored", "User-agent: *\nCrawl-delay: -1\nCrawl-delay: NaN\nCrawl-delay: soon\n", ua, 0},
		{"before user-agent ignored", "Crawl-delay: 5\nUser-agent: *\nDisallow: /x\n", ua, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := robots.Parse([]byte(tt.body)).Group(tt.ua).CrawlDelay(); got != tt.want {
				t.Errorf("CrawlDelay() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSitemaps(t *testing.T) {
	t.Parallel()
	body := "Sitemap: https://a.example/1.xml\nUser-agent: *\nSitemap: https://a.example/2.xml # two\nDisallow: /\nsitemap:\n"
	got := robots.Parse([]byte(body)).Sitemaps()
	want := []string{"https://a.example/1.xml", "https://a.example/2.xml"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Sitemaps() (-want +got):\n%s", diff)
	}
}

func TestParseLimit(t *testing.T) {
	t.Parallel()
	// The rule that crosses the 500 KiB limit is dropped whole; a cut "Disallow: /ab" would read as "/a".
	var b strings.Builder
	b.WriteString("User-agent: *\nDisallow: /first\n")
	for b.Len() < robots.MaxParse-len("Disallow: /a") {
		b.WriteString("# padding\n")
	}
	b.WriteString("Disallow: /abc\nDisallow: /after\n")
	g := robots.Parse([]byte(b.String())).Group(ua)
	for _, c := range []check{{"/first", false}, {"/abc", true}, {"/a", true}, {"/after", true}} {
		if got := g.Allowed(c.path); got != c.want {
			t.Errorf("Allowed(%q) = %v, want %v", c.path, got, c.want)
		}
	}
}

func TestNilRobotsAllowsAll(t *testing.T) {
	t.Parallel()
	var r *robots.Robots
	if g := r.Group(ua); !g.Allowed("/x") || g.CrawlDelay() != 0 {
		t.Errorf("nil Robots: Allowed, CrawlDelay = %v, %v, want true, 0", g.Allowed("/x"), g.CrawlDelay())
	}
	if got := r.Sitemaps(); got != nil {
		t.Errorf("nil Robots: Sitemaps() = %v, want nil", got)
	}
}
