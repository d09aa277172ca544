package cli_test

import (
	"encoding/csv"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trawl-dev/trawl/internal/demosite"
)

// TestReadmeServiceExample runs the curl lines of README.md's "Run it as a
// service" block, as written, against `trawl serve` and the demo site (on
// free ports instead of 8080 and 8300), so the README cannot drift from
// what the service answers.
func TestReadmeServiceExample(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is needed to run the README's examples (.ci/run installs it): ", err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "<!-- service-example: TestReadmeServiceExample")
	if !ok {
		t.Fatal("README.md lost its service-example block")
	}
	_, block, _ = strings.Cut(block, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	var cmds []string
	for _, l := range strings.Split(block, "\n") {
		if strings.HasPrefix(l, "curl ") {
			cmds = append(cmds, l)
		}
	}
	if len(cmds) < 6 {
		t.Fatalf("found %d curl lines in the README block, want the whole example", len(cmds))
	}

	site := httptest.NewServer(demosite.New(demosite.Config{}).Handler())
	t.Cleanup(site.Close)
	dir := t.TempDir()
	spider, err := os.ReadFile("../../examples/quotes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "examples"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "examples/quotes.yaml", strings.ReplaceAll(string(spider), "http://127.0.0.1:8300", site.URL))
	svc := startService(t, dir, "--db", "trawl.db", "--allow-private-networks")

	outs := make([]string, len(cmds))
	for i, c := range cmds {
		c = strings.ReplaceAll(c, "http://127.0.0.1:8080", svc.base)
		cmd := exec.Command("sh", "-c", c)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("README line %q: %v\n%s\nservice log:\n%s", cmds[i], err, out, svc.logs())
		}
		outs[i] = string(out)
	}
	want := []struct {
		line, has string
	}{
		{"PUT", `"name":"quotes"`},
		{"/runs", `"status":"queued"`},
		{"/events", "event: end"},
		{"albert+einstein", `"author":"Albert Einstein"`},
		{"tags=love&fields", `"text":`},
		{"fields/author", `"count":`},
	}
	for _, w := range want {
		found := false
		for i, c := range cmds {
			if strings.Contains(c, w.line) {
				found = true
				if !strings.Contains(outs[i], w.has) {
					t.Errorf("README line %q answered\n%s\nwant it to contain %s", c, outs[i], w.has)
				}
			}
		}
		if !found {
			t.Errorf("no README curl line contains %q", w.line)
		}
	}
	f, err := os.Open(filepath.Join(dir, "love.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2 || !strings.Contains(strings.Join(rows[0], ","), "tags") {
		t.Fatalf("love.csv = %v, want a header and rows", rows)
	}
	tags := -1
	for i, h := range rows[0] {
		if h == "tags" {
			tags = i
		}
	}
	for _, r := range rows[1:] {
		if !strings.Contains(r[tags], "love") {
			t.Errorf("love.csv row %v has no love tag", r)
		}
	}
}
