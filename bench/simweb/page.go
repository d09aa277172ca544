package simweb

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Item is the record that one page carries in its div.item, as a crawler should extract it.
type Item struct {
	Title string   `json:"title"`
	Price string   `json:"price"`
	Tags  []string `json:"tags"`
}

// pageKind says what a request path is.
type pageKind int

const (
	kindNotFound pageKind = iota
	kindRobots
	kindPage    // a regular page: expected to be crawled, carries an expected item
	kindPrivate // a page under Config.RobotsDisallow: exists, but a polite crawler never fetches it
)

// Seeds that separate the independent pseudo-random streams derived from Config.Seed.
const (
	streamPage uint64 = iota + 1
	streamFail503
	streamLatency
)

var tagWords = [...]string{
	"alpha", "bravo", "charlie", "delta", "echo", "foxtrot",
	"golf", "hotel", "india", "juliett", "kilo", "lima",
}

// site is the immutable link graph and content of a simulated web; ports are only known at Start.
type site struct {
	cfg    Config
	hosts  []string // host[:port] of each host index
	filler string   // words to pad pages to PageBytes
}

// classify maps a request path to its kind and, for pages, its number.
func (s *site) classify(path string) (pageKind, int) {
	switch {
	case path == "/robots.txt":
		return kindRobots, 0
	case path == "/":
		return kindPage, 0
	case strings.HasPrefix(path, "/p/"):
		n, err := strconv.Atoi(path[len("/p/"):])
		if err != nil || n < 1 || n >= s.cfg.PagesPerHost || strconv.Itoa(n) != path[len("/p/"):] {
			return kindNotFound, 0
		}
		return kindPage, n
	case s.cfg.RobotsDisallow != "" && strings.HasPrefix(path, s.privatePrefix()):
		k, err := strconv.Atoi(path[len(s.privatePrefix()):])
		if err != nil || k < 0 || k >= s.cfg.privatePages() || strconv.Itoa(k) != path[len(s.privatePrefix()):] {
			return kindNotFound, 0
		}
		return kindPrivate, k
	}
	return kindNotFound, 0
}

// privatePrefix is the path under which private page k lives as privatePrefix()+k.
func (s *site) privatePrefix() string {
	return strings.TrimSuffix(s.cfg.RobotsDisallow, "/") + "/"
}

// pagePath returns the canonical path of regular page n: "/" for page 0.
func pagePath(n int) string {
	if n == 0 {
		return "/"
	}
	return "/p/" + strconv.Itoa(n)
}

// pageRand returns the generator of everything on page n (or private page n) of host h.
func (s *site) pageRand(h, n int, private bool) *rand.Rand {
	p := uint64(0)
	if private {
		p = 1
	}
	return rand.New(rand.NewPCG(mix(uint64(s.cfg.Seed), streamPage), mix(uint64(h), uint64(n), p)))
}

// item returns the item of page n of host h, drawn first from the page's generator.
func itemOf(r *rand.Rand, h, n int, private bool) Item {
	title := fmt.Sprintf("Item %d-%d", h, n)
	if private {
		title = fmt.Sprintf("Private %d-%d", h, n)
	}
	cents := r.IntN(100000)
	tags := make([]string, 3)
	for i := range tags {
		tags[i] = tagWords[r.IntN(len(tagWords))]
	}
	return Item{Title: title, Price: fmt.Sprintf("$%d.%02d", cents/100, cents%100), Tags: tags}
}

// links returns the hrefs of page n of host h besides the home link every page has, drawn after its item.
func (s *site) links(r *rand.Rand, h, n int, private bool) []string {
	c := s.cfg
	if private {
		return nil
	}
	hrefs := make([]string, 0, 2+c.links()+c.crossHostLinks())
	if n+1 < c.PagesPerHost {
		hrefs = append(hrefs, pagePath(n+1))
	}
	for range c.links() {
		k := r.IntN(c.PagesPerHost)
		if r.Float64() < c.NotFound {
			hrefs = append(hrefs, pagePath(c.PagesPerHost+k))
			continue
		}
		hrefs = append(hrefs, pagePath(k))
	}
	for range c.crossHostLinks() {
		o := r.IntN(c.Hosts - 1)
		if o >= h {
			o++
		}
		k := r.IntN(c.PagesPerHost)
		if r.Float64() < c.NotFound {
			k += c.PagesPerHost
		}
		hrefs = append(hrefs, "http://"+s.hosts[o]+pagePath(k))
	}
	if pp := c.privatePages(); pp > 0 && r.Float64() < 0.1 {
		hrefs = append(hrefs, s.privatePrefix()+strconv.Itoa(r.IntN(pp)))
	}
	return hrefs
}

// render writes the HTML of page n (or private page n) of host h to b.
func (s *site) render(b *bytes.Buffer, h, n int, private bool) {
	r := s.pageRand(h, n, private)
	it := itemOf(r, h, n, private)
	hrefs := s.links(r, h, n, private)
	b.Grow(s.cfg.PageBytes + 512)
	fmt.Fprintf(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head>\n<body>\n", it.Title)
	b.WriteString(`<nav><a href="/">Home</a></nav>` + "\n")
	fmt.Fprintf(b, `<div class="item"><h1 class="title">%s</h1><span class="price">%s</span>`, it.Title, it.Price)
	for _, t := range it.Tags {
		fmt.Fprintf(b, `<a class="tag">%s</a>`, t)
	}
	b.WriteString("</div>\n<ul class=\"links\">\n")
	for i, href := range hrefs {
		fmt.Fprintf(b, "<li><a href=\"%s\">link %d</a></li>\n", href, i)
	}
	b.WriteString("</ul>\n")
	const tail = "</p>\n</body></html>\n"
	if pad := s.cfg.PageBytes - b.Len() - len(`<p class="filler">`) - len(tail); pad > 0 {
		b.WriteString(`<p class="filler">`)
		b.WriteString(s.filler[:min(pad, len(s.filler))])
		b.WriteString(tail)
		return
	}
	b.WriteString("</body></html>\n")
}

// robots returns the robots.txt body.
func (s *site) robots() string {
	return "User-agent: *\nDisallow: " + s.cfg.RobotsDisallow + "\n"
}

// fails503 reports whether the first request of page n of host h answers 503.
func (s *site) fails503(h, n int) bool {
	return s.cfg.Fail503 > 0 && unit(mix(uint64(s.cfg.Seed), streamFail503, uint64(h), uint64(n))) < s.cfg.Fail503
}

// latencyMix returns the random state for the latency of the nth request of path on host h.
func (s *site) latencyMix(h int, path string, nth int) uint64 {
	f := fnv.New64a()
	f.Write([]byte(path))
	return mix(uint64(s.cfg.Seed), streamLatency, uint64(h), f.Sum64(), uint64(nth))
}

// makeFiller returns at least n bytes of space-separated words.
func makeFiller(n int) string {
	words := [...]string{"lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do",
		"eiusmod", "tempor", "incididunt", "ut", "labore", "et", "dolore", "magna", "aliqua"}
	var b strings.Builder
	b.Grow(n + 16)
	for i := 0; b.Len() < n; i++ {
		b.WriteString(words[(i*7+i/len(words))%len(words)])
		b.WriteByte(' ')
	}
	return b.String()
}

// mix hashes a sequence of values into one well-distributed 64-bit value (splitmix64 steps).
func mix(vals ...uint64) uint64 {
	h := uint64(0x9e3779b97f4a7c15)
	for _, v := range vals {
		h = splitmix(h ^ splitmix(v))
	}
	return h
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// unit maps h to a float64 in [0, 1).
func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }
