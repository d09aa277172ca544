package cli_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/trawl-dev/trawl/internal/cli"
)

// TestMain lets the test binary act as the trawl command: the kill -9 test
// runs it as a child process with TRAWL_TEST_MAIN=1.
func TestMain(m *testing.M) {
	if os.Getenv("TRAWL_TEST_MAIN") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := cli.Main(ctx, os.Args[1:], cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// trawlCmd returns the trawl command as a child process in dir.
func trawlCmd(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TRAWL_TEST_MAIN=1")
	return cmd
}

// result is the outcome of one in-process run of the command line.
type result struct {
	code           int
	stdout, stderr string
}

// runMain runs the command line in-process in dir.
func runMain(t *testing.T, dir string, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(context.Background(), args, cli.Env{
		Stdout: &out, Stderr: &errb, Dir: dir,
		Getenv: func(k string) string { return env[k] },
	})
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

func cliMain(ctx context.Context, dir string, stdout, stderr io.Writer, args []string) int {
	return cli.Main(ctx, args, cli.Env{Stdout: stdout, Stderr: stderr, Dir: dir})
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func lines(s string) []string {
	return strings.Split(strings.TrimRight(s, "\n"), "\n")
}
