package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/trawl-dev/trawl/bench/simweb"
)

// quotesDataset is the dataset (and spider) name of the generated quotes.
const quotesDataset = "quotes"

// quotesSpider returns the spider that crawls the quotes API at startURL into the dataset
// "quotes", keyed by the quote's id, at perHost requests in flight.
func quotesSpider(startURL string, perHost int) string {
	return fmt.Sprintf(`name: %s
start_urls: [%s]
follow:
  - json: pages
items:
  - json: quotes
    fields:
      id: id
      text: text
      author: author
      tags: {json: tags, all: true}
      year: year
    key: [id]
politeness:
  concurrency_per_host: %d
  robots: ignore
fetch:
  retries: 3
  timeout: 60s
`, quotesDataset, strconv.Quote(startURL), perHost)
}

// datasetCacheName returns the file name of the cached database of cfg, made with a trawl whose
// schema migrations hash to schema (see schemaKey): a changed or new migration makes a new file.
func datasetCacheName(cfg simweb.QuotesConfig, schema string) string {
	cfg = cfg.WithDefaults()
	return fmt.Sprintf("quotes-p%d-n%d-a%d-t%d-s%d-%s.db", cfg.Pages, cfg.PerPage, cfg.Authors, cfg.Tags, cfg.Seed, schema)
}

// schemaKey returns a short hash of the names and contents of the schema migrations in the trawl
// source tree at src, or "nosrc" when there are none (a prebuilt binary without its source).
func schemaKey(src string) (string, error) {
	files, err := filepath.Glob(filepath.Join(src, "internal", "store", "sqlite", "migration", "*.sql"))
	if err != nil || len(files) == 0 {
		return "nosrc", err
	}
	slices.Sort(files)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("hash migrations: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(b))
		h.Write(b)
	}
	return "m" + hex.EncodeToString(h.Sum(nil))[:10], nil
}

// generated says how a dataset file came to be.
type generated struct {
	Path    string        `json:"path"`
	Items   int           `json:"items"`
	Cached  bool          `json:"cached"`
	Took    time.Duration `json:"took_ns"` // crawl time when generated now
	Bytes   int64         `json:"bytes"`
	Command string        `json:"command,omitempty"`
}

// ensureDataset returns a SQLite database holding the dataset "quotes" of cfg in cacheDir,
// crawling the quotes API with `trawl run` when the file is not there yet. The crawl writes to a
// temporary name and renames it on success, so an interrupted generation leaves no bad cache.
func ensureDataset(ctx context.Context, trawlBin, cacheDir, schema string, cfg simweb.QuotesConfig, timeout time.Duration, progress io.Writer) (generated, error) {
	cfg = cfg.WithDefaults()
	g := generated{Path: filepath.Join(cacheDir, datasetCacheName(cfg, schema)), Items: cfg.Items()}
	if st, err := os.Stat(g.Path); err == nil {
		g.Cached, g.Bytes = true, st.Size()
		fmt.Fprintf(progress, "dataset of %d items: cached %s\n", g.Items, g.Path)
		return g, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return g, fmt.Errorf("create cache directory: %w", err)
	}
	dir, err := os.MkdirTemp(cacheDir, "gen-")
	if err != nil {
		return g, fmt.Errorf("create generation directory: %w", err)
	}
	defer os.RemoveAll(dir)
	api, err := simweb.StartQuotes(cfg)
	if err != nil {
		return g, err
	}
	defer api.Close()
	spiderPath := filepath.Join(dir, "quotes.yaml")
	if err := os.WriteFile(spiderPath, []byte(quotesSpider(api.URL(), 8)), 0o644); err != nil {
		return g, fmt.Errorf("write spider: %w", err)
	}
	db := filepath.Join(dir, "quotes.db")
	argv := []string{trawlBin, "run", spiderPath, "--db", db, "--concurrency", "8", "--quiet"}
	g.Command = shortCommand(argv)
	fmt.Fprintf(progress, "dataset of %d items: generating (%d pages of %d quotes): %s\n", g.Items, cfg.Pages, cfg.PerPage, g.Command)
	m := measure(ctx, argv, dir, filepath.Join(dir, "trawl.log"), timeout)
	if m.Err != nil {
		return g, fmt.Errorf("generate dataset: %w", m.Err)
	}
	g.Took = m.Wall
	if err := removeSidecars(db); err != nil {
		return g, err
	}
	if err := os.Rename(db, g.Path); err != nil {
		return g, fmt.Errorf("keep dataset: %w", err)
	}
	if st, err := os.Stat(g.Path); err == nil {
		g.Bytes = st.Size()
	}
	fmt.Fprintf(progress, "dataset of %d items: generated in %.1fs, %.0f MiB\n", g.Items, g.Took.Seconds(), float64(g.Bytes)/(1<<20))
	return g, nil
}

// removeSidecars checks that trawl left no write-ahead log behind db (it checkpoints on a clean
// exit), so that the file alone is the whole database and can be moved.
func removeSidecars(db string) error {
	for _, s := range []string{"-wal", "-journal"} {
		st, err := os.Stat(db + s)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("check %s: %w", s, err)
		}
		if st.Size() > 0 {
			return fmt.Errorf("database %s has a non-empty %s after trawl exited", db, s)
		}
		os.Remove(db + s)
	}
	os.Remove(db + "-shm")
	return nil
}
