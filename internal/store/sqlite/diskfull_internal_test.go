package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// TestDiskFull caps the database at its current size (PRAGMA
// max_page_count, which makes SQLite fail writes with SQLITE_FULL, as on a
// full disk), commits a batch that needs more room, and checks that the
// error is store.ErrDiskFull, that nothing of the batch committed, and that
// once reopened without the cap the same pages are still queued and commit.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "trawl.db")
	db, err := Open(ctx, path, Config{})
	if err != nil {
		t.Fatal(err)
	}
	run, err := db.CreateRun(ctx, store.CreateRunParams{Spider: "a", SpecHash: "h", Columns: []string{"body"},
		StartURLs: []store.NewURL{{URL: "http://h/1", Host: "h"}, {URL: "http://h/2", Host: "h"}, {URL: "http://h/3", Host: "h"}}})
	if err != nil {
		t.Fatal(err)
	}
	queued, err := db.QueuedPages(ctx, run.ID, "h", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	big := func(p store.Page) store.PageResult {
		return store.PageResult{PageID: p.ID, Status: 200, Bytes: 1, Links: []store.NewURL{{URL: p.URL + "/next", Host: "h", Depth: 1}},
			Items: []trawl.Item{{Key: p.URL, URL: p.URL, Fields: []trawl.Field{{Name: "body", Value: strings.Repeat("x", 256<<10)}}}}}
	}
	if _, err := db.CommitPages(ctx, store.CommitParams{RunID: run.ID, Dataset: "a", Pages: []store.PageResult{big(queued[0])}}); err != nil {
		t.Fatal(err)
	}
	var pages int64
	if err := db.write.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, pages)); err != nil {
		t.Fatal(err)
	}
	batch := store.CommitParams{RunID: run.ID, Dataset: "a", Pages: []store.PageResult{big(queued[1]), big(queued[2])}}
	_, err = db.CommitPages(ctx, batch)
	if !errors.Is(err, store.ErrDiskFull) {
		t.Fatalf("CommitPages on a full database = %v, want ErrDiskFull", err)
	}
	t.Logf("error: %v", err)
	check := func(when string, wantPages int64, wantQueued int) {
		t.Helper()
		r, err := db.Run(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Stats.Pages != wantPages || r.Stats.Items != wantPages || r.Stats.Queued != 3+wantPages {
			t.Errorf("%s: stats = %+v, want %d pages and items, %d queued", when, r.Stats, wantPages, 3+wantPages)
		}
		q, err := db.QueuedPages(ctx, run.ID, "h", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(q) != wantQueued {
			t.Errorf("%s: %d queued pages, want %d", when, len(q), wantQueued)
		}
	}
	check("after the failed commit", 1, 3) // /2 and /3, and /1/next
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// The cap belongs to the connection: reopening lifts it, as freeing
	// disk space would, and the run resumes where it stood.
	if db, err = Open(ctx, path, Config{}); err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	check("after reopening", 1, 3)
	if _, err := db.CommitPages(ctx, batch); err != nil {
		t.Fatalf("CommitPages after reopening: %v", err)
	}
	check("after the retried commit", 3, 3)
}

func TestWriteErrorDiskFull(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"ENOSPC from the OS", &fs.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}, true},
		{"wrapped ENOSPC", fmt.Errorf("commit: %w", syscall.ENOSPC), true},
		{"other I/O error", &fs.PathError{Op: "write", Path: "x", Err: syscall.EIO}, false},
		{"not found", trawl.Errorf(trawl.ENOTFOUND, "run 1 not found"), false},
	}
	for _, tt := range tests {
		if got := errors.Is(writeError(tt.err), store.ErrDiskFull); got != tt.want {
			t.Errorf("%s: errors.Is(writeError(%v), ErrDiskFull) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}
