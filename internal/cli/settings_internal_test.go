package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/config"
)

// TestParseSettings runs the serve settings table through the command
// line parser as trawl serve will: flag > TRAWL_* > --config file >
// default, the file's problems as usage errors with line and column, and a
// warning for a misspelt variable.
func TestParseSettings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "trawl.yaml"), []byte("addr: 127.0.0.1:9001\nmax-runs: 3\nstall-timeout: 1h\npprof: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	parse := func(args []string, vars map[string]string) (*config.Serve, string, error) {
		var c config.Serve
		var stderr bytes.Buffer
		env := Env{Stdout: &stderr, Stderr: &stderr, Dir: dir, Getenv: func(k string) string { return vars[k] }, Environ: func() []string {
			var kv []string
			for k, v := range vars {
				kv = append(kv, k+"="+v)
			}
			return kv
		}}
		fs := newFlagSet("serve", "[flags]", "Serve the API.")
		_, _, err := fs.parseSettings(args, env, config.ServeSettings(&c))
		return &c, stderr.String(), err
	}
	c, out, err := parse([]string{"--config", "trawl.yaml", "--max-runs", "5"}, map[string]string{"TRAWL_STALL_TIMEOUT": "2m", "TRAWL_ADRR": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9001" || c.MaxRuns != 5 || c.StallTimeout != 2*time.Minute || !c.Pprof || c.LogLevel != "info" {
		t.Errorf("settings = %+v; want addr from the file, max-runs from the flag, stall-timeout from the env, pprof from the file, log-level default", c)
	}
	if want := "trawl: warning: TRAWL_ADRR is not a setting and is ignored; did you mean TRAWL_ADDR?\n"; out != want {
		t.Errorf("stderr = %q, want %q", out, want)
	}

	if err := os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("addr: x\nmax_runs: 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	_, _, err = parse(nil, map[string]string{"TRAWL_CONFIG": "bad.yaml"})
	if code := report(&b, err); code != ExitUsage || b.String() != "trawl: bad.yaml:2:1: unknown key \"max_runs\"; did you mean \"max-runs\"?\nRun 'trawl help serve' for usage.\n" {
		t.Errorf("bad file: exit %d, %q", code, b.String())
	}
	b.Reset()
	_, _, err = parse([]string{"--max-runs", "-1"}, nil)
	if code := report(&b, err); code != ExitUsage || !strings.Contains(b.String(), "invalid value \"-1\" for --max-runs: must be at least 0") {
		t.Errorf("bad flag: exit %d, %q", code, b.String())
	}
	b.Reset()
	_, _, err = parse([]string{"--max-runz", "3"}, nil)
	if code := report(&b, err); code != ExitUsage || !strings.Contains(b.String(), "unknown flag --max-runz; did you mean --max-runs?") {
		t.Errorf("misspelt flag: exit %d, %q", code, b.String())
	}
	_, out, err = parse([]string{"-h"}, nil)
	if code := report(&b, err); code != ExitOK || !strings.Contains(out, "--retain-frontier DURATION") || !strings.Contains(out, "7d)") || !strings.Contains(out, "--config FILE") {
		t.Errorf("help: exit %d:\n%s", code, out)
	}
}
