package jobs_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// childEnv names the database of the child process of TestRestartAfterKill,
// childKindEnv its kind (sqlite or postgres).
const (
	childEnv     = "TRAWL_JOBS_TEST_CHILD_DB"
	childKindEnv = "TRAWL_JOBS_TEST_CHILD_KIND"
)

// TestKillChild is the child process of TestRestartAfterKill: it serves
// the queue on the database it is given, submits the spider "killed", and
// waits to be killed. Run alone, it does nothing.
func TestKillChild(t *testing.T) {
	dsn := os.Getenv(childEnv)
	if dsn == "" {
		return // not the child
	}
	e := openEnv(t, os.Getenv(childKindEnv), dsn)
	svc := e.start(e.config())
	if _, err := svc.Submit(context.Background(), "killed", time.Time{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Second) // killed long before
	t.Fatal("child was not killed")
}

// TestRestartAfterKill: a service killed (SIGKILL) in the middle of a run
// leaves the run running and River's job running; the next start takes the
// job up again and the run resumes: it ends with exactly the site's items,
// and no page committed before the kill is fetched again.
func TestRestartAfterKill(t *testing.T) {
	t.Parallel()
	if os.Getenv(childEnv) != "" {
		t.Skip("in the child process")
	}
	for _, k := range newEnvs {
		t.Run(k.kind, func(t *testing.T) {
			t.Parallel()
			testRestartAfterKill(t, k.new(t))
		})
	}
}

func testRestartAfterKill(t *testing.T, e *env) {
	s := newSite(t, 40, 100*time.Millisecond)
	e.put("killed", s, "")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+e.dsn, childKindEnv+"="+e.kind)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var runID int64
	deadline := time.Now().Add(30 * time.Second)
	for {
		if runs := e.runsOf("killed"); len(runs) == 1 && runs[0].Stats.Pages >= 8 {
			runID = runs[0].ID
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the child did not crawl 8 pages in 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killed, err := e.db.Run(context.Background(), runID)
	if err != nil {
		t.Fatal(err)
	}
	if killed.Status != trawl.RunRunning || killed.Stats.Pages >= 41 {
		t.Fatalf("run after the kill = %s with %d pages; want running, unfinished", killed.Status, killed.Stats.Pages)
	}
	committed := e.itemURLs("killed") // the pages whose commit survived the kill
	if len(committed) == 0 {
		t.Fatal("no item committed before the kill")
	}

	e.start(e.config())
	done := e.waitRun(runID, 30*time.Second, final)
	if done.Status != trawl.RunSucceeded || done.Stats.Items != 41 {
		t.Fatalf("resumed run = %s (%s) with %d items; want succeeded with 41", done.Status, done.Error, done.Stats.Items)
	}
	if n := len(e.runsOf("killed")); n != 1 {
		t.Errorf("%d runs, want the one resumed", n)
	}
	if got := len(e.itemURLs("killed")); got != 41 {
		t.Errorf("dataset has %d items, want 41 (no duplicate, none missing)", got)
	}
	counts := s.fetches()
	for _, raw := range committed {
		var it struct {
			URL string `json:"_url"`
		}
		if err := json.Unmarshal([]byte(raw), &it); err != nil {
			t.Fatal(err)
		}
		path := it.URL[strings.Index(it.URL, s.Listener.Addr().String())+len(s.Listener.Addr().String()):]
		if counts[path] != 1 {
			t.Errorf("%s was committed before the kill but fetched %d times", path, counts[path])
		}
	}
	for i := range 40 {
		if p := "/p/" + strconv.Itoa(i); counts[p] == 0 {
			t.Errorf("%s never fetched", p)
		}
	}
	t.Logf("%d pages committed before the kill, %d fetches in all for 41 pages", len(committed), total(counts))
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
