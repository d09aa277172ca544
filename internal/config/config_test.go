package config_test

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/config"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// load registers the serve table on a fresh flag set, parses args and
// loads the rest from env and (when file is not "") a config file holding
// file.
func load(t *testing.T, args []string, env map[string]string, file string) (*config.Serve, *config.Result, error) {
	t.Helper()
	var c config.Serve
	tab := config.ServeSettings(&c)
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	tab.Register(fs)
	if file != "" {
		path := filepath.Join(t.TempDir(), "trawl.yaml")
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", path)
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	res, err := tab.Load(fs, config.Sources{Getenv: func(k string) string { return env[k] }, Environ: environ})
	return &c, res, err
}

// TestPrecedence sets one setting of each kind from every combination of
// sources and checks that the highest one wins: flag > env > file > default.
func TestPrecedence(t *testing.T) {
	t.Parallel()
	kinds := []struct {
		name                  string // the setting
		flag, env, file       string // the value each source gives
		fileYAML              string // file as YAML
		def                   any
		wantFlag, wantEnv, wf any // the value read from each
		get                   func(*config.Serve) any
	}{
		{"addr", "127.0.0.1:1", "127.0.0.1:2", "", "addr: 127.0.0.1:3", config.DefaultAddr, "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", func(c *config.Serve) any { return c.Addr }},
		{"max-runs", "4", "5", "", "max-runs: 6", config.DefaultMaxRuns, 4, 5, 6, func(c *config.Serve) any { return c.MaxRuns }},
		{"stall-timeout", "1m", "2h", "", "stall-timeout: 3d", config.DefaultStallTimeout, time.Minute, 2 * time.Hour, 72 * time.Hour, func(c *config.Serve) any { return c.StallTimeout }},
		{"log-format", "json", "text", "", "log-format: JSON", config.DefaultLogFormat, "json", "text", "json", func(c *config.Serve) any { return c.LogFormat }},
		{"pprof", "true", "true", "", "pprof: true", false, true, true, true, func(c *config.Serve) any { return c.Pprof }},
		{"allow-private-networks", "false", "false", "", "allow-private-networks: false", false, false, false, false, func(c *config.Serve) any { return c.AllowPrivateNetworks }},
	}
	for _, k := range kinds {
		envName := config.EnvName(k.name)
		for mask := range 8 {
			useFlag, useEnv, useFile := mask&4 != 0, mask&2 != 0, mask&1 != 0
			var args []string
			env := map[string]string{}
			file := ""
			want, origin := k.def, config.FromDefault
			if useFile {
				file, want, origin = k.fileYAML+"\n", k.wf, config.FromFile
			}
			if useEnv {
				env[envName], want, origin = k.env, k.wantEnv, config.FromEnv
			}
			if useFlag {
				args, want, origin = []string{"--" + k.name + "=" + k.flag}, k.wantFlag, config.FromFlag
			}
			c, res, err := load(t, args, env, file)
			if err != nil {
				t.Fatalf("%s flag=%v env=%v file=%v: %v", k.name, useFlag, useEnv, useFile, err)
			}
			if got := k.get(c); got != want {
				t.Errorf("%s flag=%v env=%v file=%v: value %v, want %v", k.name, useFlag, useEnv, useFile, got, want)
			}
			if got := res.Origins[k.name]; got != origin {
				t.Errorf("%s flag=%v env=%v file=%v: origin %s, want %s", k.name, useFlag, useEnv, useFile, got, origin)
			}
		}
	}
}

// TestFlagOverridesTrueWithFalse: a switch set in the file is turned off by
// --pprof=false, which a "was it given" check on the value alone would miss.
func TestFlagOverridesTrueWithFalse(t *testing.T) {
	t.Parallel()
	c, _, err := load(t, []string{"--pprof=false"}, map[string]string{"TRAWL_PPROF": "true"}, "pprof: true\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.Pprof {
		t.Error("Pprof = true; want false from the flag")
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, res, err := load(t, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	want := config.Serve{
		Addr: "127.0.0.1:8080", DB: "trawl.db", MaxRuns: 2, Concurrency: 64, StallTimeout: 10 * time.Minute,
		ShutdownTimeout: 30 * time.Second, RetainFrontier: 7 * 24 * time.Hour, LogFormat: "text", LogLevel: "info",
	}
	if diff := cmp.Diff(want, *c); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	if res.File != "" || len(res.Warnings) != 0 {
		t.Errorf("File %q, Warnings %q; want none", res.File, res.Warnings)
	}
}

// TestConfigFromEnv: TRAWL_CONFIG names the file when --config is not given.
func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte("db: /srv/trawl.db\ntoken: 12345\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, res, err := load(t, nil, map[string]string{"TRAWL_CONFIG": path}, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.DB != "/srv/trawl.db" || c.Token != "12345" || res.File != path {
		t.Errorf("DB %q, Token %q, File %q; want /srv/trawl.db, 12345 (a number in YAML is still a token), %s", c.DB, c.Token, res.File, path)
	}
}

// TestFileErrors: every problem of the file, each with its line and column.
func TestFileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file string
		want       []string // after "FILE:"
	}{
		{"unknown key with suggestion", "addr: 127.0.0.1:9\nmax_runs: 3\n", []string{`2:1: unknown key "max_runs"; did you mean "max-runs"?`}},
		{"unknown key without suggestion", "zzzzzz: 1\n", []string{`1:1: unknown key "zzzzzz"; the keys are addr, db, token, read-token, max-runs, concurrency, stall-timeout, shutdown-timeout, retain-frontier, log-format, log-level, allow-private-networks, pprof`}},
		{"config is not a key", "config: other.yaml\n", []string{`1:1: unknown key "config"; the keys are addr, db, token, read-token, max-runs, concurrency, stall-timeout, shutdown-timeout, retain-frontier, log-format, log-level, allow-private-networks, pprof`}},
		{"int as string", "max-runs: many\n", []string{`1:11: max-runs: want a whole number, at least 0, got "many"`}},
		{"duration without unit", "stall-timeout: 30\n", []string{`1:16: stall-timeout: want a duration like 30s, 10m or 7d, got the number 30`}},
		{"bool as string", "pprof: \"yes\"\n", []string{`1:8: pprof: want true or false, got "yes"`}},
		{"list", "addr: [a, b]\n", []string{`1:7: addr: want a string, got a list`}},
		{"null", "token:\n", []string{`1:7: token: want a string, got no value`}},
		{"twice", "db: a.db\ndb: b.db\n", []string{`2:1: db is set twice (first on line 1)`}},
		{"all problems", "adr: x\nmax-runs: 0.5\n  \nlog-levle: info\n", []string{
			`1:1: unknown key "adr"; did you mean "addr"?`,
			`2:11: max-runs: want a whole number, at least 0, got the number 0.5`,
			`4:1: unknown key "log-levle"; did you mean "log-level"?`,
		}},
		{"value out of range", "max-runs: -1\n", []string{`1:11: max-runs: must be at least 0, got -1`}},
		{"bad enum", "log-format: xml\n", []string{`1:13: log-format: want one of text, json, got "xml"`}},
		{"negative duration", "retain-frontier: -1h\n", []string{`1:18: retain-frontier: must not be negative, got "-1h"`}},
		{"not a mapping", "- addr\n", []string{`1:1: the config file must be a mapping of settings (addr: 127.0.0.1:8080, ...)`}},
		{"two documents", "addr: a\n---\naddr: b\n", []string{`2:1: a config file holds one YAML document: remove this second one (after "---")`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := load(t, nil, nil, tt.file)
			if trawl.ErrorCode(err) != trawl.EINVALID {
				t.Fatalf("err = %v, want code invalid", err)
			}
			var got []string
			for _, line := range strings.Split(trawl.ErrorMessage(err), "\n") {
				_, rest, _ := strings.Cut(line, "trawl.yaml:")
				got = append(got, rest)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFileSyntaxAndMissing(t *testing.T) {
	t.Parallel()
	_, _, err := load(t, nil, nil, "addr: [\n")
	if msg := trawl.ErrorMessage(err); !strings.Contains(msg, "trawl.yaml: invalid YAML") {
		t.Errorf("syntax error: %q; want the file and invalid YAML", msg)
	}
	_, _, err = load(t, []string{"--config", filepath.Join(t.TempDir(), "none.yaml")}, nil, "")
	if msg := trawl.ErrorMessage(err); trawl.ErrorCode(err) != trawl.EINVALID || !strings.HasSuffix(msg, "none.yaml: no such file") {
		t.Errorf("missing file: %v; want invalid, no such file", err)
	}
	c, _, err := load(t, nil, nil, "# only a comment\n")
	if err != nil || c.Addr != config.DefaultAddr {
		t.Errorf("comment-only file: %v, addr %q; want no error and the default", err, c.Addr)
	}
}

func TestEnvErrorsAndWarnings(t *testing.T) {
	t.Parallel()
	_, _, err := load(t, nil, map[string]string{"TRAWL_MAX_RUNS": "two"}, "")
	if want := `invalid TRAWL_MAX_RUNS="two": want a whole number, got "two"`; trawl.ErrorMessage(err) != want {
		t.Errorf("bad env value: %v; want %q", err, want)
	}
	_, _, err = load(t, nil, map[string]string{"TRAWL_SHUTDOWN_TIMEOUT": "soon"}, "")
	if want := `invalid TRAWL_SHUTDOWN_TIMEOUT="soon": want a duration like 30s, 10m or 7d, got "soon"`; trawl.ErrorMessage(err) != want {
		t.Errorf("bad env duration: %v; want %q", err, want)
	}
	// The environment of another command (TRAWL_CONCURRENCY of trawl run,
	// TRAWL_SERVER of the clients) is no near miss; TRAWL_ADRR is.
	c, res, err := load(t, nil, map[string]string{"TRAWL_ADRR": "0.0.0.0:1", "TRAWL_CONCURRENCY": "4", "TRAWL_SERVER": "http://x", "TRAWL_LOGLEVEL": "debug"}, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"TRAWL_ADRR is not a setting and is ignored; did you mean TRAWL_ADDR?",
		"TRAWL_LOGLEVEL is not a setting and is ignored; did you mean TRAWL_LOG_LEVEL?",
	}
	got := res.Warnings
	if len(got) == 2 && got[0] > got[1] {
		got[0], got[1] = got[1], got[0] // the environment has no order here
	}
	if diff := cmp.Diff(want, got); diff != "" || c.Addr != config.DefaultAddr {
		t.Errorf("warnings (-want +got):\n%s; addr %q", diff, c.Addr)
	}
}

func TestDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "1d12h": 36 * time.Hour, "90s": 90 * time.Second, "0s": 0, "250ms": 250 * time.Millisecond} {
		got, err := config.ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "7", "d", "xd", "-1s", "1d-1h", "1w"} {
		if _, err := config.ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q): no error", in)
		}
	}
	for d, want := range map[time.Duration]string{7 * 24 * time.Hour: "7d", 36 * time.Hour: "1d12h", 10 * time.Minute: "10m", time.Hour: "1h", 90 * time.Minute: "1h30m", 30 * time.Second: "30s", 0: "0s", 1500 * time.Millisecond: "1.5s"} {
		if got := config.FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := config.ParseDuration(config.FormatDuration(d)); err != nil || back != d {
			t.Errorf("ParseDuration(FormatDuration(%v)) = %v, %v", d, back, err)
		}
	}
}

// TestRegisterHelp: the flags carry their defaults as users write them.
func TestRegisterHelp(t *testing.T) {
	t.Parallel()
	var c config.Serve
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	config.ServeSettings(&c).Register(fs)
	for name, want := range map[string]string{"retain-frontier": "7d", "stall-timeout": "10m", "max-runs": "2", "pprof": "false", "addr": "127.0.0.1:8080", "config": ""} {
		f := fs.Lookup(name)
		if f == nil || f.DefValue != want {
			t.Errorf("flag %s: %+v; want default %q", name, f, want)
		}
	}
	if err := fs.Parse([]string{"--pprof", "--max-runs", "-1"}); err == nil || !strings.Contains(err.Error(), "must be at least 0") {
		t.Errorf("--max-runs -1: %v; want must be at least 0", err)
	}
}

// TestOperationsExample loads the example file of docs/operations.md: it
// must be valid and set every setting, so the docs cannot drift from the
// table.
func TestOperationsExample(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/operations.md has no ```yaml example")
	}
	c, res, err := load(t, nil, nil, example)
	if err != nil {
		t.Fatalf("the example does not load: %v", err)
	}
	for _, s := range config.ServeSettings(&config.Serve{}).Settings() {
		if res.Origins[s.Name] != config.FromFile {
			t.Errorf("the example does not set %s", s.Name)
		}
		if !strings.Contains(string(doc), "| `"+s.Name+"` | ") {
			t.Errorf("docs/operations.md has no table row for %s", s.Name)
		}
	}
	if c.LogFormat != "json" || c.RetainFrontier != config.DefaultRetainFrontier {
		t.Errorf("example read as %+v", c)
	}
}
