package cli_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// commands are trawl's subcommands; each has a golden help text.
var commands = []string{"run", "check", "try", "export", "runs", "datasets", "serve", "migrate", "spiders", "apply", "items", "demo", "version", "help",
	"runs list", "runs get", "runs start", "runs cancel", "runs watch", "spiders list", "spiders get", "spiders put", "spiders delete"}

// TestHelp checks every help text against its golden file, and that
// `trawl help COMMAND` and `trawl COMMAND -h` print the same text.
func TestHelp(t *testing.T) {
	t.Parallel()
	cases := map[string][][]string{"trawl": {{"help"}, {"-h"}, {"--help"}}}
	for _, c := range commands {
		words := strings.Fields(c)
		cases[c] = [][]string{append([]string{"help"}, words...), append(words, "-h"), append(words, "--help")}
	}
	for name, invocations := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			golden := filepath.Join("testdata", "help", strings.ReplaceAll(name, " ", "-")+".txt")
			for i, args := range invocations {
				r := runMain(t, t.TempDir(), nil, args...)
				if r.code != 0 || r.stderr != "" {
					t.Errorf("trawl %v: exit %d, stderr %q; want 0 and nothing", args, r.code, r.stderr)
				}
				if i == 0 && *update {
					if err := os.WriteFile(golden, []byte(r.stdout), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(string(want), r.stdout); diff != "" {
					t.Errorf("trawl %v (-%s +got):\n%s", args, golden, diff)
				}
				checkHelpConventions(t, r.stdout)
			}
		})
	}
}

// checkHelpConventions: no Flags heading without flags under it, flags
// with two dashes (one for a one-letter alias) and each flag once.
func checkHelpConventions(t *testing.T, help string) {
	t.Helper()
	if strings.HasSuffix(strings.TrimSpace(help), "):") || strings.Contains(help, "Flags:\n\n") {
		t.Errorf("help has an empty Flags heading:\n%s", help)
	}
	flagLine := regexp.MustCompile(`^  (-[a-z], )?(-{1,2})([a-z][a-z-]*)`)
	seen := map[string]bool{}
	inFlags := false
	for _, line := range strings.Split(help, "\n") {
		if strings.HasPrefix(line, "Flags") {
			inFlags = true
			continue
		}
		m := flagLine.FindStringSubmatch(strings.Replace(line, "      --", "  --", 1))
		if !inFlags || m == nil {
			continue
		}
		if m[2] != "--" {
			t.Errorf("flag shown with one dash: %q", line)
		}
		if seen[m[3]] {
			t.Errorf("flag --%s shown twice", m[3])
		}
		seen[m[3]] = true
	}
}

func TestMistypes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"rn", "s.yaml"}, `trawl: unknown command "rn"; did you mean "run"?` + "\nRun 'trawl help' for usage.\n"},
		{[]string{"exprot"}, `trawl: unknown command "exprot"; did you mean "export"?` + "\nRun 'trawl help' for usage.\n"},
		{[]string{"frob"}, `trawl: unknown command "frob"` + "\nRun 'trawl help' for usage.\n"},
		{[]string{"help", "datsets"}, `trawl: unknown command "datsets"; did you mean "datasets"?` + "\nRun 'trawl help' for usage.\n"},
		{[]string{"run", "s.yaml", "--concurency", "4"}, "trawl: unknown flag --concurency; did you mean --concurrency?\nRun 'trawl help run' for usage.\n"},
		{[]string{"run", "s.yaml", "-concurency=4"}, "trawl: unknown flag --concurency; did you mean --concurrency?\nRun 'trawl help run' for usage.\n"},
		{[]string{"export", "q", "--fromat", "csv"}, "trawl: unknown flag --fromat; did you mean --format?\nRun 'trawl help export' for usage.\n"},
		{[]string{"tyr", "s.yaml"}, `trawl: unknown command "tyr"; did you mean "try"?` + "\nRun 'trawl help' for usage.\n"},
		{[]string{"try", "s.yaml", "--jsno"}, "trawl: unknown flag --jsno; did you mean --json?\nRun 'trawl help try' for usage.\n"},
		{[]string{"export", "q", "--zzz"}, "trawl: unknown flag --zzz\nRun 'trawl help export' for usage.\n"},
		{[]string{"run", "s.yaml", "--concurrency", "lots"}, "trawl: invalid value \"lots\" for --concurrency: parse error\nRun 'trawl help run' for usage.\n"},
		{[]string{"run", "s.yaml", "-o"}, "trawl: flag needs an argument: -o\nRun 'trawl help run' for usage.\n"},
	}
	for _, tt := range tests {
		r := runMain(t, dir, nil, tt.args...)
		if r.code != 2 || r.stderr != tt.want || r.stdout != "" {
			t.Errorf("trawl %v: exit %d, stderr %q, stdout %q; want exit 2 and %q", tt.args, r.code, r.stderr, r.stdout, tt.want)
		}
	}
}

func TestCheckMissingFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "good.yaml", "name: good\nstart_urls: [http://example.com/]\nitems: [{fields: {title: title}}]\n")
	r := runMain(t, dir, nil, "check", "good.yaml", "missing.yaml")
	want := "trawl: " + filepath.Join(dir, "missing.yaml") + ": no such file\n"
	if r.code != 2 || r.stderr != want || !strings.Contains(r.stdout, "good.yaml: ok") {
		t.Errorf("check of a missing file: exit %d, stderr %q; want 2 and %q", r.code, r.stderr, want)
	}
}

// TestRunLogFormat: trawl run takes serve's --log-format, and refuses an
// unknown one before fetching anything.
func TestRunLogFormat(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "s.yaml", "name: s\nstart_urls: [http://127.0.0.1:1/]\nitems: [{fields: {title: title}}]\n")
	r := runMain(t, dir, nil, "run", "s.yaml", "--log-format", "xml")
	if want := "trawl: invalid log format \"xml\": use text or json\nRun 'trawl help run' for usage.\n"; r.code != 2 || r.stderr != want {
		t.Errorf("--log-format xml: exit %d, %q; want 2, %q", r.code, r.stderr, want)
	}
}
