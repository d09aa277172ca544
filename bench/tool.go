package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/trawl-dev/trawl/bench/simweb"
)

// errNotInstalled marks a tool that this machine cannot run; it is reported, not a failure.
var errNotInstalled = errors.New("not installed")

// job is one run of one tool against one fresh simulated web.
type job struct {
	web      *simweb.Web
	scenario scenario
	dir      string // empty directory for this run: spider file, database, output, log
}

// tool is a crawler under test, run as a child process.
type tool interface {
	// Name is the column heading.
	Name() string
	// Prepare builds or locates the tool once, in dir. It returns an error wrapping errNotInstalled
	// if the tool is missing from this machine.
	Prepare(ctx context.Context, dir string) error
	// Command returns the argv that crawls j.web and the JSONL file it writes the items to, or an
	// empty output for a tool that extracts no items (its item counts are reported as n/a).
	Command(j job) (argv []string, output string, err error)
}

// goBuild builds the main package pkg of the module in srcDir to out.
func goBuild(ctx context.Context, srcDir, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = srcDir
	if b, err := cmd.CombinedOutput(); err != nil {
		msg := strings.Join(strings.Fields(string(b)), " ")
		if len(msg) > 400 {
			msg = msg[:400] + "..."
		}
		return fmt.Errorf("go build %s in %s: %w: %s", pkg, srcDir, err, msg)
	}
	return nil
}

// trawlTool runs `trawl run` with a spider written for the scenario.
type trawlTool struct {
	src string // trawl module directory, used when bin is empty
	bin string // prebuilt binary, or the one Prepare built
}

func (t *trawlTool) Name() string { return "trawl" }

func (t *trawlTool) Prepare(ctx context.Context, dir string) error {
	if t.bin != "" {
		if _, err := os.Stat(t.bin); err != nil {
			return fmt.Errorf("trawl binary: %w", err)
		}
		return nil
	}
	bin := filepath.Join(dir, "trawl")
	if err := goBuild(ctx, t.src, "./cmd/trawl", bin); err != nil {
		return err
	}
	t.bin = bin
	return nil
}

func (t *trawlTool) Command(j job) ([]string, string, error) {
	spiderPath := filepath.Join(j.dir, "bench.yaml")
	if err := os.WriteFile(spiderPath, []byte(trawlSpider(j.web, j.scenario.PerHost)), 0o644); err != nil {
		return nil, "", fmt.Errorf("write spider: %w", err)
	}
	out := filepath.Join(j.dir, "trawl.jsonl")
	return []string{
		t.bin, "run", spiderPath,
		"--db", filepath.Join(j.dir, "bench.db"),
		"--concurrency", strconv.Itoa(j.scenario.Concurrency),
		"-o", out,
	}, out, nil
}

// trawlSpider returns the spider YAML that crawls web with perHost requests per host. Strings are
// written double-quoted, which YAML reads like JSON strings.
func trawlSpider(web *simweb.Web, perHost int) string {
	var b strings.Builder
	b.WriteString("name: bench\nstart_urls:\n")
	for _, u := range web.URLs() {
		fmt.Fprintf(&b, "  - %s\n", strconv.Quote(u))
	}
	b.WriteString("scope:\n  hosts:\n")
	for _, h := range web.Hosts() {
		fmt.Fprintf(&b, "    - %s\n", strconv.Quote(h))
	}
	fmt.Fprintf(&b, `follow:
  - css: "a[href]"
items:
  - css: div.item
    fields:
      title: h1.title
      price: span.price
      tags: {css: a.tag, all: true}
    key: [_url]
politeness:
  concurrency_per_host: %d
  robots: obey
fetch:
  retries: 3
  timeout: 20s
`, perHost)
	return b.String()
}

// collyTool runs the Colly v2 baseline in ./colly.
type collyTool struct {
	src string // bench module directory
	bin string
}

func (t *collyTool) Name() string { return "colly" }

func (t *collyTool) Prepare(ctx context.Context, dir string) error {
	bin := filepath.Join(dir, "colly-bench")
	if err := goBuild(ctx, t.src, "./colly", bin); err != nil {
		return err
	}
	t.bin = bin
	return nil
}

func (t *collyTool) Command(j job) ([]string, string, error) {
	out := filepath.Join(j.dir, "colly.jsonl")
	return []string{
		t.bin,
		"-start", strings.Join(j.web.URLs(), ","),
		"-hosts", strings.Join(j.web.Hosts(), ","),
		"-per-host", strconv.Itoa(j.scenario.PerHost),
		"-o", out,
	}, out, nil
}

// idealTool runs ./ideal, a client that knows every URL in advance: the floor any crawler can
// reach on this machine. It extracts no items.
type idealTool struct {
	src string // bench module directory
	bin string
}

func (t *idealTool) Name() string { return "ideal" }

func (t *idealTool) Prepare(ctx context.Context, dir string) error {
	bin := filepath.Join(dir, "ideal-bench")
	if err := goBuild(ctx, t.src, "./ideal", bin); err != nil {
		return err
	}
	t.bin = bin
	return nil
}

func (t *idealTool) Command(j job) ([]string, string, error) {
	cfg := j.web.Config()
	return []string{
		t.bin,
		"-start", strings.Join(j.web.URLs(), ","),
		"-per-host", strconv.Itoa(j.scenario.PerHost),
		"-concurrency", strconv.Itoa(j.scenario.Concurrency),
		"-pages", strconv.Itoa(cfg.PagesPerHost),
		"-disallow", cfg.RobotsDisallow,
	}, "", nil
}

// scrapyTool runs scrapy/simspider.py with a Python that has Scrapy.
type scrapyTool struct {
	src    string // bench module directory
	python string
}

func (t *scrapyTool) Name() string { return "scrapy" }

func (t *scrapyTool) Prepare(ctx context.Context, dir string) error {
	cmd := exec.CommandContext(ctx, t.python, "-c", "import scrapy")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w: %s -c 'import scrapy': %v: %s", errNotInstalled, t.python, err, lastLine(string(b)))
	}
	return nil
}

func (t *scrapyTool) Command(j job) ([]string, string, error) {
	spiderPath, err := filepath.Abs(filepath.Join(t.src, "scrapy", "simspider.py"))
	if err != nil {
		return nil, "", fmt.Errorf("locate spider: %w", err)
	}
	hosts := make([]string, 0, len(j.web.Hosts()))
	for _, h := range j.web.Hosts() {
		name, _, err := net.SplitHostPort(h)
		if err != nil {
			return nil, "", fmt.Errorf("host %s: %w", h, err)
		}
		hosts = append(hosts, name) // Scrapy's allowed_domains ignores entries with a port
	}
	out := filepath.Join(j.dir, "scrapy.jsonl")
	return []string{
		t.python, "-m", "scrapy", "runspider", spiderPath,
		"-a", "start=" + strings.Join(j.web.URLs(), ","),
		"-a", "hosts=" + strings.Join(hosts, ","),
		"-s", "CONCURRENT_REQUESTS=" + strconv.Itoa(j.scenario.Concurrency),
		"-s", "CONCURRENT_REQUESTS_PER_DOMAIN=" + strconv.Itoa(j.scenario.PerHost),
		"-O", out,
	}, out, nil
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// newTools returns the tools named in the comma-separated list names.
func newTools(names, benchDir, trawlSrc, trawlBin, python string) ([]tool, error) {
	var tools []tool
	for _, n := range strings.Split(names, ",") {
		switch strings.TrimSpace(n) {
		case "trawl":
			tools = append(tools, &trawlTool{src: trawlSrc, bin: trawlBin})
		case "colly":
			tools = append(tools, &collyTool{src: benchDir})
		case "scrapy":
			tools = append(tools, &scrapyTool{src: benchDir, python: python})
		case "ideal":
			tools = append(tools, &idealTool{src: benchDir})
		case "":
		default:
			return nil, fmt.Errorf("unknown tool %q: want trawl, colly, scrapy or ideal", n)
		}
	}
	if len(tools) == 0 {
		return nil, errors.New("no tools: give -tools a comma-separated list of trawl, colly, scrapy, ideal")
	}
	return tools, nil
}
