package simweb

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults applied by [StartQuotes] to zero-valued [QuotesConfig] fields.
const (
	QuotePagesDefault    = 100
	QuotesPerPageDefault = 100
	QuoteAuthorsDefault  = 2000
	QuoteTagsDefault     = 500
	// QuotesPerPageMax bounds PerPage, so that a page stays well under a crawler's body limit.
	QuotesPerPageMax = 5000
)

// QuotesConfig describes a quotes API: one host whose JSON pages each carry PerPage quotes, the
// data set that the items API of trawl serve is measured on. The zero value is 100 pages of 100
// quotes.
type QuotesConfig struct {
	// Pages is the number of quote pages, /quotes/1 … /quotes/Pages, all linked from /quotes.
	Pages int `json:"pages"`
	// PerPage is the number of quotes on each page. Default 100, at most QuotesPerPageMax.
	PerPage int `json:"per_page"`
	// Authors is the number of distinct author names (before case variants). Default 2000.
	Authors int `json:"authors"`
	// Tags is the number of distinct tags. Default 500.
	Tags int `json:"tags"`
	// Seed makes the quotes reproducible.
	Seed int64 `json:"seed"`
}

// WithDefaults returns c with every zero field set to its default, as StartQuotes applies them.
func (c QuotesConfig) WithDefaults() QuotesConfig {
	c.Pages = cmp.Or(c.Pages, QuotePagesDefault)
	c.PerPage = cmp.Or(c.PerPage, QuotesPerPageDefault)
	c.Authors = cmp.Or(c.Authors, QuoteAuthorsDefault)
	c.Tags = cmp.Or(c.Tags, QuoteTagsDefault)
	return c
}

func (c QuotesConfig) validate() error {
	var errs []error
	if c.Pages < 1 {
		errs = append(errs, fmt.Errorf("pages %d: want at least 1", c.Pages))
	}
	if c.PerPage < 1 || c.PerPage > QuotesPerPageMax {
		errs = append(errs, fmt.Errorf("quotes per page %d: want 1 to %d", c.PerPage, QuotesPerPageMax))
	}
	if c.Authors < 1 || c.Authors > len(firstNames)*len(lastNames) {
		errs = append(errs, fmt.Errorf("authors %d: want 1 to %d", c.Authors, len(firstNames)*len(lastNames)))
	}
	if c.Tags < 1 || c.Tags > len(tagHeads)*len(tagTails) {
		errs = append(errs, fmt.Errorf("tags %d: want 1 to %d", c.Tags, len(tagHeads)*len(tagTails)))
	}
	return errors.Join(errs...)
}

// Items returns the number of quotes of the whole site.
func (c QuotesConfig) Items() int { return c.Pages * c.PerPage }

// Quote is one item of the quotes API, as a crawler should store it. ID runs from 0 to
// Items()-1 over the site, page by page.
type Quote struct {
	ID     int      `json:"id"`
	Text   string   `json:"text"`
	Author string   `json:"author"`
	Tags   []string `json:"tags"`
	Year   int      `json:"year"`
}

var (
	firstNames = [...]string{
		"Albert", "Marie", "Ada", "Isaac", "Jane", "Mark", "Maya", "Oscar", "Virginia", "Leo",
		"Simone", "Franz", "Emily", "George", "Toni", "Pablo", "Frida", "Hannah", "Rosa", "Nelson",
		"Carl", "Agatha", "Fyodor", "Harper", "Ursula", "Kurt", "Sylvia", "Italo", "Chinua", "Jorge",
		"Clarice", "Haruki", "Wislawa", "Octavio", "Doris", "Naguib", "Gabriel", "Iris", "Miguel", "Yukio",
		"Zora", "Rainer", "Anton", "Edith", "Bertrand", "Hermann", "Elena", "Primo", "Selma", "Olga",
	}
	lastNames = [...]string{
		"Einstein", "Curie", "Lovelace", "Newton", "Austen", "Twain", "Angelou", "Wilde", "Woolf", "Tolstoy",
		"Beauvoir", "Kafka", "Dickinson", "Orwell", "Morrison", "Neruda", "Kahlo", "Arendt", "Parks", "Mandela",
		"Sagan", "Christie", "Dostoevsky", "Lee", "Le Guin", "Vonnegut", "Plath", "Calvino", "Achebe", "Borges",
		"Lispector", "Murakami", "Szymborska", "Paz", "Lessing", "Mahfouz", "Garcia", "Murdoch", "Cervantes", "Mishima",
	}
	tagHeads = [...]string{
		"love", "life", "truth", "hope", "time", "art", "war", "peace", "mind", "soul",
		"fear", "joy", "work", "home", "death", "change", "power", "faith", "music", "books",
	}
	tagTails = [...]string{
		"", "-quotes", "-and-loss", "-of-youth", "-in-winter", "-at-work", "-and-friends", "-of-cities",
		"-in-letters", "-and-science", "-of-old", "-at-sea", "-and-money", "-of-women", "-in-exile",
		"-and-humor", "-of-poets", "-in-spring", "-and-grief", "-of-kings", "-at-night", "-and-wonder",
		"-of-rivers", "-in-silence", "-and-dreams",
	}
	quoteWords = [...]string{
		"the", "world", "is", "a", "book", "and", "those", "who", "do", "not", "travel", "read", "only",
		"one", "page", "imagination", "more", "important", "than", "knowledge", "life", "what", "happens",
		"while", "you", "are", "busy", "making", "other", "plans", "we", "know", "yet", "may", "be",
		"in", "middle", "of", "difficulty", "lies", "opportunity", "simple", "truth", "never", "pure",
		"rarely", "light", "dark", "every", "moment", "fresh", "beginning", "courage", "grace", "under",
		"pressure", "without", "music", "would", "mistake",
	}
)

// quoteStream separates the quotes' pseudo-random stream from the other streams of Seed.
const quoteStream uint64 = 101

// AuthorName returns author a's name as properly written; quotes carry it in varied case.
func AuthorName(a int) string {
	return firstNames[a%len(firstNames)] + " " + lastNames[a/len(firstNames)]
}

// TagName returns tag t.
func TagName(t int) string {
	return tagHeads[t%len(tagHeads)] + tagTails[t/len(tagHeads)]
}

// Quote returns quote id of the site described by c (defaults applied), a pure function of
// c.Seed and id: about 8 in 10 quotes write their author properly, 1 in 10 in lower case and 1 in
// 10 in upper case; each has 1 to 4 distinct tags and a year from 1800 to 2024.
func (c QuotesConfig) Quote(id int) Quote {
	r := rand.New(rand.NewPCG(mix(uint64(c.Seed), quoteStream), uint64(id)))
	var b strings.Builder
	for i, n := 0, 6+r.IntN(14); i < n; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(quoteWords[r.IntN(len(quoteWords))])
	}
	fmt.Fprintf(&b, " (no. %d)", id)
	author := AuthorName(r.IntN(c.Authors))
	switch v := r.IntN(10); {
	case v == 0:
		author = strings.ToLower(author)
	case v == 1:
		author = strings.ToUpper(author)
	}
	tags := make([]string, 0, 4)
	for n := 1 + r.IntN(4); len(tags) < n; {
		t := TagName(r.IntN(c.Tags))
		if !containsString(tags, t) {
			tags = append(tags, t)
		}
	}
	return Quote{ID: id, Text: b.String(), Author: author, Tags: tags, Year: 1800 + r.IntN(225)}
}

func containsString(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// QuotesPage is the JSON body of /quotes/N.
type QuotesPage struct {
	Page   int     `json:"page"`
	Quotes []Quote `json:"quotes"`
}

// QuotesIndex is the JSON body of /quotes: every page's path.
type QuotesIndex struct {
	Pages []string `json:"pages"`
}

// Quotes is a running quotes API on one loopback address.
type Quotes struct {
	cfg  QuotesConfig
	addr string
	srv  *http.Server
	wg   sync.WaitGroup
	mu   sync.Mutex
	reqs int
}

// StartQuotes serves the quotes API described by cfg on 127.0.0.2 at a free port until Close:
// GET /quotes answers a QuotesIndex linking every page, GET /quotes/N (1 ≤ N ≤ Pages) a
// QuotesPage of the quotes (N-1)*PerPage … N*PerPage-1, /robots.txt allows everything, and any
// other path answers 404.
func StartQuotes(cfg QuotesConfig) (*Quotes, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("simweb quotes config: %w", err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(hostIP(0), "0"))
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	q := &Quotes{cfg: cfg, addr: ln.Addr().String()}
	q.srv = &http.Server{Handler: http.HandlerFunc(q.serve), ReadHeaderTimeout: 10 * time.Second}
	q.wg.Go(func() { q.srv.Serve(ln) })
	return q, nil
}

// URL returns the start URL, the index page.
func (q *Quotes) URL() string { return "http://" + q.addr + "/quotes" }

// Host returns the host:port the API listens on.
func (q *Quotes) Host() string { return q.addr }

// Config returns the configuration in force, defaults applied.
func (q *Quotes) Config() QuotesConfig { return q.cfg }

// Requests returns the number of requests answered so far.
func (q *Quotes) Requests() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.reqs
}

// Close stops the server and waits for it.
func (q *Quotes) Close() error {
	err := q.srv.Close()
	q.wg.Wait()
	if err != nil {
		return fmt.Errorf("close quotes: %w", err)
	}
	return nil
}

// Page returns the body of page n (1-based) and false when there is no such page.
func (c QuotesConfig) Page(n int) (QuotesPage, bool) {
	if n < 1 || n > c.Pages {
		return QuotesPage{}, false
	}
	p := QuotesPage{Page: n, Quotes: make([]Quote, c.PerPage)}
	for i := range p.Quotes {
		p.Quotes[i] = c.Quote((n-1)*c.PerPage + i)
	}
	return p, true
}

func (q *Quotes) serve(rw http.ResponseWriter, r *http.Request) {
	q.mu.Lock()
	q.reqs++
	q.mu.Unlock()
	var body any
	switch path := r.URL.Path; {
	case path == "/robots.txt":
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(rw, "User-agent: *\nDisallow:\n")
		return
	case path == "/quotes":
		idx := QuotesIndex{Pages: make([]string, q.cfg.Pages)}
		for i := range idx.Pages {
			idx.Pages[i] = "/quotes/" + strconv.Itoa(i+1)
		}
		body = idx
	case strings.HasPrefix(path, "/quotes/"):
		s := path[len("/quotes/"):]
		n, err := strconv.Atoi(s)
		p, ok := q.cfg.Page(n)
		if err != nil || !ok || strconv.Itoa(n) != s {
			http.NotFound(rw, r)
			return
		}
		body = p
	default:
		http.NotFound(rw, r)
		return
	}
	b, err := json.Marshal(body)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Content-Length", strconv.Itoa(len(b)))
	rw.Write(b)
}
