package spider_test

import (
	"strings"
	"testing"

	"github.com/trawl-dev/trawl/internal/spider"
)

func TestHashStable(t *testing.T) {
	t.Parallel()
	base, err := spider.ParseFile("testdata/valid/quotes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(base.Hash) != 64 {
		t.Fatalf("Hash = %q, want 64 hex digits", base.Hash)
	}
	for _, file := range []string{"testdata/valid/quotes.json", "testdata/valid/quotes-reformatted.yaml"} {
		sp, err := spider.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if sp.Hash != base.Hash {
			t.Errorf("%s: Hash = %s, want %s (same spider as quotes.yaml)", file, sp.Hash, base.Hash)
		}
		if string(sp.Source) == string(base.Source) {
			t.Errorf("%s: Source equals quotes.yaml's, want the file's own bytes", file)
		}
	}

	src := readFile(t, "testdata/valid/quotes.yaml")
	changes := []struct{ old, new string }{
		{"max_pages: 100", "max_pages: 101"},
		{"name: quotes", "name: quotes2"},
		{"all: true", "all: false"},
		{"text: span.text\n      author: small.author", "author: small.author\n      text: span.text"},
		{"key: [text]", "key: [text, author]"},
		{"limits: {max_pages: 100, max_depth: 5}", "limits: {max_pages: 100}"},
		{"limits: {max_pages: 100, max_depth: 5}", "limits: {max_pages: 100, max_depth: 5, max_links: 50}"},
	}
	for _, c := range changes {
		changed := strings.Replace(src, c.old, c.new, 1)
		if changed == src {
			t.Fatalf("change %q not applied", c.old)
		}
		sp, err := spider.Parse("changed.yaml", []byte(changed))
		if err != nil {
			t.Fatalf("%q -> %q: %v", c.old, c.new, err)
		}
		if sp.Hash == base.Hash {
			t.Errorf("%q -> %q: Hash unchanged, want a different hash", c.old, c.new)
		}
	}
}
