package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/trawl-dev/trawl/examples"
	"github.com/trawl-dev/trawl/internal/crawl"
	"github.com/trawl-dev/trawl/internal/demosite"
	"github.com/trawl-dev/trawl/internal/export"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
)

// demoAddr is where the demo site listens, and the address the bundled
// example spiders name.
const demoAddr = "127.0.0.1:8300"

// demoCmd serves the demo website on loopback and crawls it with the bundled
// example spider, or only serves it with --serve.
func demoCmd(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("demo", "demo [--serve] [--addr 127.0.0.1:8300]")
	var o runOptions
	var addr string
	var serveOnly bool
	fs.StringVar(&addr, "addr", demoAddr, "address of the demo website")
	fs.BoolVar(&serveOnly, "serve", false, "only serve the demo website until interrupted")
	fs.StringVar(&o.db, "db", DefaultDB, "database: a SQLite file path")
	fs.StringVar(&o.output, "o", "", "also write the items to `FILE` (.jsonl, .csv, .json)")
	fs.IntVar(&o.concurrency, "concurrency", crawl.DefaultConcurrency, "maximum requests in flight")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress output")
	pos, err := parseFlags(fs, args, env, env.Stderr)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageErrorf("demo takes no arguments")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil && addr == demoAddr && !serveOnly {
		ln, err = net.Listen("tcp", "127.0.0.1:0") // the usual port is taken: any will do
	}
	if err != nil {
		return usageErrorf("demo site: listen on %s: %v (choose another with --addr)", addr, err)
	}
	site := demosite.New(demosite.Config{})
	srv := &http.Server{Handler: site.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	host := ln.Addr().String()
	fmt.Fprintf(env.Stderr, "demo site: http://%s/\n", host)

	if serveOnly {
		fmt.Fprintf(env.Stderr, "serving until interrupted; crawl it with: trawl run examples/quotes.yaml\n")
		<-ctx.Done()
		return nil
	}
	src, err := examples.FS.ReadFile("quotes.yaml")
	if err != nil {
		return err
	}
	src = []byte(strings.ReplaceAll(string(src), demoAddr, host))
	sp, err := spider.Parse("examples/quotes.yaml", src)
	if err != nil {
		return fmt.Errorf("bundled example spider: %w", err)
	}
	o.logLevel, o.progress = "warn", 5*time.Second
	if err := runSpider(ctx, sp, o, env); err != nil {
		return err
	}
	return demoReport(ctx, sp, o, env)
}

// demoReport shows a few of the collected items and what to do next.
func demoReport(ctx context.Context, sp *spider.Spider, o runOptions, env Env) error {
	db, err := openStore(ctx, o.db, env)
	if err != nil {
		return err
	}
	defer db.Close()
	ds, err := db.Dataset(ctx, sp.Name)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "\nThe dataset %q now holds %d items. The first 5:\n\n", sp.Name, ds.Items)
	if _, err := export.Write(env.Stdout, export.Table, first(db.Items(ctx, store.ItemQuery{Dataset: sp.Name}), 5), export.Options{Columns: ds.Columns}); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, "\nNext:")
	for _, l := range [][2]string{
		{"trawl export " + sp.Name + " -o " + sp.Name + ".csv", "all items as CSV (also .jsonl, .json)"},
		{"trawl export " + sp.Name + " --format table", "on the console"},
		{"trawl demo --serve", "keep the demo site up, then:"},
		{"trawl run examples/quotes.yaml -o q.jsonl", "run the example spider yourself"},
	} {
		fmt.Fprintf(env.Stdout, "  %-42s # %s\n", l[0], l[1])
	}
	return nil
}

// first yields at most n elements of seq.
func first(seq iter.Seq2[json.RawMessage, error], n int) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		if n <= 0 {
			return
		}
		i := 0
		for v, err := range seq {
			if !yield(v, err) || err != nil {
				return
			}
			if i++; i >= n {
				return
			}
		}
	}
}
