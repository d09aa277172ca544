package frontier

import (
	"cmp"
	"hash/maphash"
	"net/url"
	"sync"

	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/urlnorm"
)

// Admitter filters the links found on a page before they reach the store:
// scope, depth, and a bounded cache of recently seen URLs that spares the
// store most duplicate inserts. The store's unique key stays the real
// deduplication; the cache only has to be cheap. Safe for concurrent use.
type Admitter struct {
	scope    *spider.Scope
	maxDepth int
	size     int
	seed     maphash.Seed
	shards   [admitShards]seenShard
}

// admitShards spreads the seen cache over several locks: every worker
// consults it for every link it finds.
const admitShards = 16

type seenShard struct {
	mu       sync.Mutex
	cur, old map[string]struct{}
}

// NewAdmitter returns an Admitter for sp that remembers up to 2*cacheSize
// URLs (default cacheSize 65536), so memory stays flat however large the
// frontier grows.
func NewAdmitter(sp *spider.Spider, cacheSize int) *Admitter {
	size := max(cmp.Or(cacheSize, 1<<16)/admitShards, 1)
	a := &Admitter{scope: &sp.Scope, maxDepth: sp.Limits.MaxDepth, size: size, seed: maphash.MakeSeed()}
	for i := range a.shards {
		a.shards[i].cur = make(map[string]struct{}, size)
	}
	return a
}

// StartURLs returns the spider's start URLs as frontier entries at depth 0.
// They bypass the scope check: a user who lists a URL wants it fetched.
func StartURLs(sp *spider.Spider) []store.NewURL {
	out := make([]store.NewURL, 0, len(sp.StartURLs))
	for _, u := range sp.StartURLs {
		raw := urlnorm.Raw(u)
		out = append(out, store.NewURL{URL: raw.String(), Key: urlnorm.Key(raw), Host: urlnorm.HostKey(raw), Depth: 0})
	}
	return out
}

// Admit returns the links found on page from that may join the frontier:
// in scope, within the depth limit, and not seen recently. links are as the
// site wrote them (urlnorm.ResolveRaw), which is how they are fetched;
// scope and dedup look at their normalized form.
func (a *Admitter) Admit(from store.Page, links []*url.URL) []store.NewURL {
	depth := from.Depth + 1
	if a.maxDepth > 0 && depth > a.maxDepth {
		return nil
	}
	var out []store.NewURL
	for _, u := range links {
		n := urlnorm.Normalize(u)
		if !a.scope.Allows(n) {
			continue
		}
		key := n.String()
		if a.seen(key) {
			continue
		}
		out = append(out, store.NewURL{URL: u.String(), Key: key, Host: urlnorm.HostKey(n), Depth: depth})
	}
	return out
}

// seen reports whether key was seen recently, and remembers it. Each shard
// keeps two generations: when the current one is full it becomes the old
// one, and the oldest is dropped.
func (a *Admitter) seen(key string) bool {
	sh := &a.shards[maphash.String(a.seed, key)%admitShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.cur[key]; ok {
		return true
	}
	if _, ok := sh.old[key]; ok {
		sh.cur[key] = struct{}{}
		return true
	}
	if len(sh.cur) >= a.size {
		sh.old, sh.cur = sh.cur, make(map[string]struct{}, a.size)
	}
	sh.cur[key] = struct{}{}
	return false
}
