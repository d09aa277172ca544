package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/trawl-dev/trawl/examples"
	"github.com/trawl-dev/trawl/internal/crawl"
	"github.com/trawl-dev/trawl/internal/demosite"
	"github.com/trawl-dev/trawl/internal/export"
	"github.com/trawl-dev/trawl/internal/logging"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
)

// demoAddr is where the demo site listens, and the address the bundled
// example spiders name.
const demoAddr = "127.0.0.1:8300"

const demoAbout = `Start the bundled demo website on loopback (no internet needed), crawl it with
the bundled example spider examples/quotes.yaml, store the quotes in the
dataset quotes and show the first few. With --serve, only serve the site.`

// demoCmd serves the demo website on loopback and crawls it with the bundled
// example spider, or only serves it with --serve.
func demoCmd(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("demo", "[flags]", demoAbout)
	o := runOptions{command: "demo"}
	var addr string
	var serveOnly bool
	fs.StringVar(&addr, "addr", demoAddr, "serve the demo website on `ADDRESS`")
	fs.BoolVar(&serveOnly, "serve", false, "only serve the demo website until interrupted")
	fs.StringVar(&o.db, "db", DefaultDB, "database: a SQLite `FILE`")
	fs.StringVar(&o.output, "output", "", "also write the items to `FILE` (.jsonl, .csv, .json)")
	fs.alias("o", "output")
	fs.IntVar(&o.concurrency, "concurrency", crawl.DefaultConcurrency, "at most `N` requests in flight")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress output")
	pos, err := fs.parse(args, env)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return fs.usageErrorf("demo takes no arguments")
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
		spiderPath, err := exampleSpider(env)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "serving until interrupted; crawl it with: %s run %s\n", commandName(env), spiderPath)
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
	o.logLevel, o.logFormat, o.progress, o.spiderPath = "warn", logging.Text, 5*time.Second, "examples/quotes.yaml"
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
	spiderPath, err := exampleSpider(env)
	if err != nil {
		return err
	}
	trawlCmd, dbf := commandName(env), dbFlag(o.db)
	next := [][2]string{
		{trawlCmd + " export " + sp.Name + " -o " + sp.Name + ".csv" + dbf, "all items as CSV (also .jsonl, .json)"},
		{trawlCmd + " export " + sp.Name + " --format table" + dbf, "on the console"},
		{trawlCmd + " demo --serve", "keep the demo site up, then in another shell:"},
		{trawlCmd + " run " + spiderPath + " -o q.jsonl" + dbf, "run the example spider yourself"},
		{trawlCmd + " serve --allow-private-networks" + dbf, "or as a service: API and dashboard on http://127.0.0.1:8080/"},
	}
	width := 0
	for _, l := range next {
		width = max(width, len(l[0]))
	}
	fmt.Fprintln(env.Stdout, "\nNext:")
	for _, l := range next {
		fmt.Fprintf(env.Stdout, "  %-*s   # %s\n", width, l[0], l[1])
	}
	return nil
}

// commandName is how the user runs this trawl from where they are: trawl
// when it is on the PATH, go run ./cmd/trawl under go run in a checkout,
// or the path of the binary.
func commandName(env Env) string {
	if _, err := exec.LookPath("trawl"); err == nil {
		return "trawl"
	}
	exe, err := os.Executable()
	if err != nil {
		return "trawl"
	}
	wd := env.Dir
	if wd == "" {
		wd, _ = os.Getwd()
	}
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		// go run: the binary is gone when it exits.
		if _, err := os.Stat(filepath.Join(wd, "cmd", "trawl")); err == nil {
			return "go run ./cmd/trawl"
		}
		return "trawl" // elsewhere, go install ./cmd/trawl (README) is the way
	}
	if rel, err := filepath.Rel(wd, exe); err == nil && !strings.HasPrefix(rel, "..") {
		return "." + string(filepath.Separator) + rel
	}
	return exe
}

// exampleSpider returns a path to the bundled example spider that works
// from where the user is: examples/quotes.yaml in a checkout of trawl;
// elsewhere the demo writes it to quotes.yaml (keeping a file of that name
// that is already there).
func exampleSpider(env Env) (string, error) {
	const inRepo, here = "examples/quotes.yaml", "quotes.yaml"
	if _, err := os.Stat(env.path(inRepo)); err == nil {
		return inRepo, nil
	}
	src, err := examples.FS.ReadFile("quotes.yaml")
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(env.path(here)); err == nil {
		return here, nil
	}
	if err := os.WriteFile(env.path(here), src, 0o644); err != nil {
		return "", fmt.Errorf("write the example spider: %w", err)
	}
	fmt.Fprintf(env.Stderr, "wrote the example spider to %s\n", here)
	return here, nil
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
