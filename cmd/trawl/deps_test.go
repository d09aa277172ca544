package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// allowed is the import table of STYLE.md §1: each trawl package and the
// trawl packages it may import. Data flows one way, so imports do too.
var allowed = map[string][]string{
	"trawl":     {},
	"clocktest": {"trawl"},
	"urlnorm":   {},
	"metrics":   {"trawl"},
	"demosite":  {},
	"spider":    {"trawl", "urlnorm"},
	"fetch":     {"trawl"},
	"fetchtest": {},
	"robots":    {"fetch", "trawl"},
	"extract":   {"spider", "urlnorm", "trawl"},
	"store":     {"trawl", "spider"},
	"sqlite":    {"store", "trawl", "spider"},
	"postgres":  {"store", "trawl", "spider"},
	"pgtest":    {},
	"storetest": {"store", "trawl", "spider"},
	"frontier":  {"store", "spider", "urlnorm", "trawl"},
	"crawl":     {"frontier", "fetch", "robots", "extract", "store", "spider", "urlnorm", "metrics", "trawl"},
	"runner":    {"crawl", "frontier", "store", "spider", "trawl"},
	"jobs":      {"runner", "crawl", "frontier", "store", "sqlite", "postgres", "spider", "metrics", "trawl"},
	"export":    {"trawl"},
	// dryrun is one page of a crawl, stored nowhere: trawl try, POST /v1/try.
	"dryrun":    {"extract", "fetch", "frontier", "spider", "store", "urlnorm", "trawl"},
	"api":       {"store", "spider", "export", "metrics", "dryrun", "trawl"},
	"dashboard": {"api"},
	"server":    {"api", "dashboard", "jobs", "crawl", "dryrun", "fetch", "robots", "metrics", "runner", "spider", "store", "trawl"},
	"examples":  {},
	// config and logging turn settings into values for cli; client calls
	// the API, and clienttest is its test double.
	"config":     {"trawl"},
	"logging":    {"trawl"},
	"client":     {"spider", "trawl"},
	"clienttest": {"export", "spider", "trawl"},
	"cli":        {"*"},
	"main":       {"cli"},
}

func TestImportTable(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "github.com/trawl-dev/trawl/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/trawl-dev/trawl/"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := short(fields[0])
		if strings.HasPrefix(fields[0], mod+"bench") {
			continue
		}
		if fields[0] == mod+"cmd/trawl" {
			pkg = "main"
		}
		rules, ok := allowed[pkg]
		if !ok {
			t.Errorf("package %s has no row in the import table (STYLE.md §1)", fields[0])
			continue
		}
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, mod) || slices.Contains(rules, "*") {
				continue
			}
			if !slices.Contains(rules, short(imp)) {
				t.Errorf("%s imports %s, which STYLE.md §1 does not allow", fields[0], imp)
			}
		}
	}
}

func short(path string) string {
	return path[strings.LastIndex(path, "/")+1:]
}
