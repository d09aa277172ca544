package cli_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestDiskFullThenResume fills a real (tmpfs) filesystem under a crawl: the
// run stops with exit 75 and says how to go on, nothing is lost, and once
// space is freed the same command resumes the run to exactly the items of
// an uninterrupted one. The small filesystem is mounted in a user and mount
// namespace of its own (unshare -rm), so the test needs no privileges and
// leaves no mount behind.
func TestDiskFullThenResume(t *testing.T) {
	t.Parallel()
	if err := exec.Command("unshare", "-rm", "true").Run(); err != nil {
		t.Skipf("needs unshare -rm (user and mount namespaces) to mount a small filesystem: %v", err)
	}
	const pages = 300
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		var n int
		fmt.Sscanf(r.URL.Path, "/p/%d", &n)
		fmt.Fprintf(w, `<div class="q">%d %s</div><a href="/p/%d">next</a>`, n, strings.Repeat("x", 2000), n+1)
	}))
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	writeFile(t, dir, "s.yaml", fmt.Sprintf(`name: big
start_urls: ["%s/p/0"]
follow: [{css: a}]
items: [{css: div.q, fields: {t: {regex: "(.*)"}}, key: [t]}]
limits: {max_pages: %d}
`, srv.URL, pages))
	mnt := dir + "/small"
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	// A 16 MiB filesystem (the WAL alone may reach 4 MiB before a checkpoint), filled by a filler file: first too full to set
	// the database up, then, the filler shrunk, the crawl runs out of space
	// after some pages. Freeing the filler leaves room to
	// finish (300 pages of 2 KB items).
	script := `set -u
mount -t tmpfs -o size=16m tmpfs "$MNT" || exit 99
cd "$MNT" && cp "$SPIDER" s.yaml
head -c 16727216 /dev/zero > filler
"$TRAWL" run s.yaml --quiet; echo "rc0=$?"
truncate -s 16377216 filler
"$TRAWL" run s.yaml --quiet; echo "rc1=$?"
rm filler
"$TRAWL" run s.yaml --quiet; echo "rc2=$?"
"$TRAWL" export big -o items.jsonl; echo "rc3=$?"
wc -l < items.jsonl
`
	cmd := exec.Command("unshare", "-rm", "sh", "-c", script)
	cmd.Env = append(os.Environ(), "TRAWL_TEST_MAIN=1", "TRAWL="+os.Args[0], "MNT="+mnt, "SPIDER="+dir+"/s.yaml")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := string(out)
	for _, want := range []string{
		"trawl: the disk holding the database is full (", // too full to even set the database up
		"rc0=75",
		"trawl: the disk holding the database is full; every finished page is saved: free some space, then run the same command again to resume run 1",
		"rc1=75",
		"resuming run 1 of big",
		"run 1 finished: 300 pages (",
		"300 items, 0 errors",
		"rc2=0",
		"rc3=0",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if lines := strings.Fields(got); len(lines) == 0 || lines[len(lines)-1] != fmt.Sprint(pages) {
		t.Errorf("export has not %d items:\n%s", pages, got)
	}
}
