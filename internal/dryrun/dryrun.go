// Package dryrun fetches one page with a spider and reports what a crawl
// would do with it: the items it extracts, the links each follow rule finds
// and whether the frontier would follow them, and which item rules
// matched. It stores nothing. `trawl try` and POST /v1/try run it; it uses
// the engine's fetch settings and extraction code (fetch, extract,
// frontier), so what it shows is what a run does.
package dryrun

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/trawl-dev/trawl/internal/extract"
	"github.com/trawl-dev/trawl/internal/fetch"
	"github.com/trawl-dev/trawl/internal/frontier"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
	"github.com/trawl-dev/trawl/internal/urlnorm"
)

// Fetcher fetches one page; *fetch.Client is one.
type Fetcher interface {
	Fetch(ctx context.Context, req *fetch.Request) (*fetch.Response, error)
}

// Result is what a dry run found.
type Result struct {
	// URL is the page fetched, after redirects.
	URL string `json:"url"`
	// Status is the response's HTTP status; 0 when none arrived.
	Status int `json:"status"`
	// Items are the page's valid items, as a run would store them.
	Items []trawl.Item `json:"items"`
	// Links are the links of each follow rule, rules in declared order,
	// links in the order the rule found them. A link found by two rules is
	// listed under each.
	Links []Link `json:"links"`
	// Rules are the item rules, in declared order.
	Rules []Rule `json:"rules"`
	// Problems are what kept the page from being used as a run would
	// (a failed fetch, a body that does not parse) or what a run would do
	// differently (the URL is out of scope), located at "url".
	Problems []spider.Problem `json:"problems"`
}

// Link is one link a follow rule found.
type Link struct {
	Rule    int    `json:"rule"` // index of the follow rule
	URL     string `json:"url"`
	InScope bool   `json:"in_scope"`
	// Followed is whether a run would queue it (in scope, within
	// max_depth and the page's max_links).
	Followed bool `json:"followed"`
	// Reason says why it is followed or not.
	Reason string `json:"reason"`
}

// Rule is what one item rule did with the page.
type Rule struct {
	Rule    int    `json:"rule"` // index of the item rule
	Kind    string `json:"kind"` // "item"
	Matched bool   `json:"matched"`
	Count   int    `json:"count"` // valid items it yielded
}

// Try fetches rawURL ("" = the spider's first start URL) as a run fetches
// a page of sp and extracts it. A URL that is not an absolute http(s) URL
// is EINVALID; a failed fetch is not an error but a problem of the
// result, with the status when the server answered.
func Try(ctx context.Context, f Fetcher, sp *spider.Spider, rawURL string) (*Result, error) {
	u, err := target(sp, rawURL)
	if err != nil {
		return nil, err
	}
	res := &Result{URL: u.String(), Items: []trawl.Item{}, Links: []Link{}, Rules: []Rule{}, Problems: []spider.Problem{}}
	if reason := sp.Scope.Reason(urlnorm.Normalize(u)); reason != "" && rawURL != "" && !isStart(sp, u) {
		res.problem("the URL is out of the spider's scope (" + reason + "): a run would not fetch it")
	}
	resp, err := f.Fetch(ctx, &fetch.Request{
		URL:          u,
		UserAgent:    sp.Fetch.UserAgent,
		Header:       header(sp),
		Timeout:      sp.Fetch.Timeout,
		MaxBody:      sp.Fetch.MaxBody,
		MaxRedirects: sp.Fetch.MaxRedirects,
		CheckRedirect: func(to *url.URL) error {
			if !sp.Scope.Allows(to) {
				return errors.New("redirect target is out of the spider's scope: " + sp.Scope.Reason(to))
			}
			return nil
		},
	})
	if resp != nil {
		res.URL, res.Status = resp.URL.String(), resp.Status
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		var fe *fetch.Error
		if errors.As(err, &fe) && fe.Status != 0 {
			res.Status = fe.Status
		}
		res.problem(fmt.Sprintf("fetch failed (%s): %s", fetch.ClassOf(err), fetchText(err)))
		return res, nil
	}
	page := extract.Page{URL: resp.URL, ContentType: resp.ContentType, Body: resp.Body}
	if err := res.extract(sp, page); err != nil {
		res.problem(err.Error())
	}
	return res, nil
}

func (r *Result) problem(msg string) {
	r.Problems = append(r.Problems, spider.Problem{Path: "url", Message: msg})
}

// extract applies sp to page as the engine does, then each rule alone to
// tell which rule found what.
func (r *Result) extract(sp *spider.Spider, page extract.Page) error {
	all, err := extract.Extract(sp, page)
	if err != nil {
		return err
	}
	r.Items = append(r.Items, all.Items...)
	for i := range sp.Items {
		one := *sp
		one.Follow, one.Items = nil, sp.Items[i:i+1]
		res, err := extract.Extract(&one, page)
		if err != nil {
			return err
		}
		matched := len(res.Rules) == 1 && res.Rules[0].Matched > 0
		r.Rules = append(r.Rules, Rule{Rule: i, Kind: "item", Matched: matched, Count: len(res.Items)})
	}
	// The links a run admits: the page taken as a start URL (depth 0).
	from := store.Page{Depth: 0}
	admitted := map[string]bool{}
	for _, n := range frontier.NewAdmitter(sp, 0).Admit(from, all.Links) {
		admitted[n.URL] = true
	}
	kept := map[string]bool{}
	for _, l := range all.Links {
		kept[l.String()] = true
	}
	for i := range sp.Follow {
		one := *sp
		one.Items, one.Follow = nil, sp.Follow[i:i+1]
		one.Limits.MaxLinks = 0 // every link the rule finds, to show those over the cap
		res, err := extract.Extract(&one, page)
		if err != nil {
			return err
		}
		for _, l := range res.Links {
			r.Links = append(r.Links, link(sp, i, l, admitted, kept))
		}
	}
	return nil
}

// link judges one link found by follow rule i as the frontier would.
func link(sp *spider.Spider, i int, l *url.URL, admitted, kept map[string]bool) Link {
	out := Link{Rule: i, URL: l.String()}
	reason := sp.Scope.Reason(urlnorm.Normalize(l))
	out.InScope = reason == ""
	switch {
	case !out.InScope:
		out.Reason = "out of scope: " + reason
	case !kept[out.URL]:
		out.Reason = "over limits.max_links (" + strconv.Itoa(sp.Limits.MaxLinks) + ") of the page"
	case admitted[out.URL]:
		out.Followed, out.Reason = true, "followed: queued at depth 1 (from a start URL)"
	default:
		out.Reason = "the same URL once normalized as another link of the page, which is followed instead"
	}
	return out
}

// target is the URL to try: rawURL, or the first start URL.
func target(sp *spider.Spider, rawURL string) (*url.URL, error) {
	if rawURL == "" {
		if len(sp.StartURLs) == 0 {
			return nil, trawl.Errorf(trawl.EINVALID, "the spider has no start URL: give a URL to try")
		}
		return urlnorm.Raw(sp.StartURLs[0]), nil
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, trawl.Errorf(trawl.EINVALID, "url %q: want an absolute http or https URL", rawURL)
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

func isStart(sp *spider.Spider, u *url.URL) bool {
	key := urlnorm.Key(u)
	for _, s := range sp.StartURLs {
		if urlnorm.Key(urlnorm.Raw(s)) == key {
			return true
		}
	}
	return false
}

func header(sp *spider.Spider) http.Header {
	if len(sp.Fetch.Headers) == 0 {
		return nil
	}
	h := make(http.Header, len(sp.Fetch.Headers))
	for k, v := range sp.Fetch.Headers {
		h.Set(k, v)
	}
	return h
}

// fetchText says what went wrong with a fetch.
func fetchText(err error) string {
	var fe *fetch.Error
	if errors.As(err, &fe) {
		if fe.Err != nil {
			return fe.Err.Error()
		}
		if fe.Status != 0 {
			return strconv.Itoa(fe.Status) + " " + http.StatusText(fe.Status)
		}
	}
	return err.Error()
}
