package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/trawl-dev/trawl/internal/store"
)

// TestRawURLStoredOnlyWhenItDiffers: raw_url is NULL for a page written in
// its normalized form, which is most pages, so the column costs nothing.
func TestRawURLStoredOnlyWhenItDiffers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "trawl.db"), Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r, err := db.CreateRun(ctx, store.CreateRunParams{Spider: "s", SpecHash: "h", StartURLs: []store.NewURL{
		{URL: "http://h/a", Key: "http://h/a", Host: "h"},
		{URL: "http://h/b", Host: "h"},
		{URL: "http://h/c?z&y", Key: "http://h/c?y&z", Host: "h"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var raw string
	if err := db.read.QueryRowContext(ctx, `SELECT count(*), max(raw_url) FROM pages WHERE run_id = ? AND raw_url IS NOT NULL`, r.ID).Scan(&n, &raw); err != nil {
		t.Fatal(err)
	}
	if n != 1 || raw != "http://h/c?z&y" {
		t.Errorf("raw_url set on %d pages (max %q), want 1 (http://h/c?z&y)", n, raw)
	}
}
