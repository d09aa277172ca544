// Package spider decodes, validates and compiles spider files (YAML or JSON)
// into an immutable *Spider that is safe to share across goroutines.
package spider

import (
	"net/url"
	"regexp"
	"time"

	"github.com/andybalholm/cascadia"
	"github.com/antchfx/xpath"
)

// Defaults applied to fields a spider leaves out.
const (
	DefaultConcurrencyPerHost = 2
	DefaultTimeout            = 20 * time.Second
	DefaultRetries            = 3
	DefaultMaxBody            = 10 << 20 // 10 MiB
	DefaultMaxRedirects       = 10
	DefaultMaxLinks           = 10000
)

// Spider is a validated and compiled spider. It is immutable after Parse
// returns it and safe for concurrent use.
type Spider struct {
	Name       string
	StartURLs  []*url.URL
	Scope      Scope
	Follow     []FollowRule
	Items      []ItemRule
	Limits     Limits
	Politeness Politeness
	Fetch      Fetch
	Schedule   string // as written (spaces trimmed): cron expression, descriptor or "@every D"; "" when unscheduled
	// Cron is Schedule compiled by ParseCron, the parser that validated it:
	// the service fires this value and never re-parses. Nil when unscheduled.
	Cron *Cron

	// Source is the spider file as given; Hash is a stable digest of its
	// decoded content (formatting and comments do not change it). A run is
	// resumed only by a spider with the same Hash.
	Source []byte
	Hash   string
}

// Scope decides which URLs may be fetched.
type Scope struct {
	// Hosts are lowercase "host" or "host:port" patterns. "*.example.com"
	// matches example.com and every subdomain of it. A pattern without a
	// port matches any port.
	Hosts []string
	Allow []*regexp.Regexp // on path+query; if non-empty one must match
	Deny  []*regexp.Regexp // on path+query; none may match

	// index answers exact host patterns with one map lookup; built at
	// compile time (nil in a Scope made by hand, which Allows handles).
	index *hostIndex
}

// Selector is a compiled CSS or XPath selector; exactly one of CSS and XPath
// is set. Source is the text as written in the spider.
type Selector struct {
	CSS    cascadia.Sel
	XPath  *xpath.Expr
	Source string
}

// IsZero reports whether no selector is set.
func (s Selector) IsZero() bool { return s.CSS == nil && s.XPath == nil }

// FollowRule discovers new URLs on a fetched page. Exactly one of Selector
// (HTML pages) and JSON (JSON responses) is set.
type FollowRule struct {
	Selector Selector         // elements whose Attr holds a URL
	Attr     string           // default "href"
	JSON     *JSONPath        // dot path to a URL string or a list of them
	URLs     []*regexp.Regexp // only on pages whose path+query matches one; empty means all pages
}

// ItemRule yields zero or more items per page.
type ItemRule struct {
	// Root selects the item elements (HTML); zero means one item per page
	// whose fields are relative to the whole document.
	Root Selector
	// JSON is the dot path to an array (one item per element) or an object
	// (one item) on JSON responses; nil for HTML rules.
	JSON     *JSONPath
	URLs     []*regexp.Regexp // only on pages whose path+query matches one; empty means all pages
	Fields   []Field          // in declared order
	Required []string         // field names that must be non-empty
	Key      []string         // field names (or "_url") that identify an item; default all fields
}

// IsJSON reports whether the rule applies to JSON responses.
func (r *ItemRule) IsJSON() bool { return r.JSON != nil }

// Field extracts one value of an item.
type Field struct {
	Name string
	// Selector is relative to the item element; zero means the item element
	// itself (useful with Attr). Unused by JSON rules.
	Selector Selector
	JSON     *JSONPath      // JSON rules: dot path relative to the item object
	Attr     string         // attribute instead of text
	All      bool           // every match, as a list of strings
	URL      bool           // resolve the value against the page URL
	Regex    *regexp.Regexp // optional: keep the first capture group (or whole match) of the value
}

// JSONPath is a compiled dot path such as "data.items" or "author.name".
// A numeric segment indexes an array; a name applied to an array maps over its
// elements. The empty path (written "" or ".") is the value itself.
type JSONPath struct {
	Segments []string
	Source   string
}

// Limits bound a run. Zero means unlimited.
type Limits struct {
	MaxPages int // URLs admitted to the frontier, start URLs included
	MaxDepth int // link distance from a start URL
	// MaxLinks caps the links one page yields from its follow rules, counted
	// after deduplication within the page, in document order (JSON: rule
	// order); extract counts the rest in Result.LinksCapped. A parsed spider
	// gets DefaultMaxLinks when it leaves the field out.
	MaxLinks int
}

// Politeness controls how hard one host is hit.
type Politeness struct {
	ObeyRobots         bool
	ConcurrencyPerHost int           // default 2
	Delay              time.Duration // minimum gap between request starts to one host
}

// Fetch configures HTTP requests.
type Fetch struct {
	Timeout      time.Duration // whole request including body; default 20s
	Retries      int           // extra attempts after the first; default 3
	UserAgent    string        // default trawl.DefaultUserAgent
	MaxBody      int64         // bytes after decompression; default 10 MiB
	MaxRedirects int           // default 10
	Headers      map[string]string
}
