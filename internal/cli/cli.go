// Package cli is trawl's composition root: subcommands, flags with TRAWL_*
// environment twins, the choice of store from --db, and the wiring of every
// other package. Only cmd/trawl and end-to-end tests import it.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// Exit codes.
const (
	ExitOK          = 0
	ExitError       = 1   // a fatal error: database, disk, ...
	ExitUsage       = 2   // bad flags, arguments or spider
	ExitInterrupted = 130 // stopped by a signal; the run can be resumed
)

// Env is the process environment as given to Main.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads an environment variable; nil means none are set.
	Getenv func(string) string
	// Dir is the working directory for default paths; "" means the
	// process's own.
	Dir string
}

// Main runs the trawl command line with args (without the program name)
// and returns the process exit code.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if env.Stdout == nil {
		env.Stdout = io.Discard
	}
	if env.Stderr == nil {
		env.Stderr = io.Discard
	}
	if len(args) == 0 {
		usage(env.Stderr)
		return ExitUsage
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "run":
		err = runCmd(ctx, rest, env)
	case "check":
		err = checkCmd(ctx, rest, env)
	case "export":
		err = exportCmd(ctx, rest, env)
	case "demo":
		err = demoCmd(ctx, rest, env)
	case "version", "--version", "-version":
		fmt.Fprintf(env.Stdout, "trawl %s (%s %s/%s)\n", trawl.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	case "help", "-h", "--help", "-help":
		usage(env.Stdout)
	default:
		err = usageErrorf("unknown command %q", cmd)
	}
	return report(env.Stderr, err)
}

const usageText = `trawl collects structured data from websites.

Usage:
  trawl run SPIDER.yaml [-o FILE] [--db DSN] [--concurrency N] [--restart]
  trawl check SPIDER.yaml...
  trawl export DATASET [-o FILE] [--format jsonl|csv|json|table] [--db DSN]
  trawl demo [--serve] [--addr 127.0.0.1:8300] [--db DSN]
  trawl version

Run 'trawl COMMAND -h' for the flags of a command. Every flag can also be
set with an environment variable: --db is TRAWL_DB, --concurrency is
TRAWL_CONCURRENCY, and so on.
`

func usage(w io.Writer) { fmt.Fprint(w, usageText) }

// usageError is a mistake in how trawl was invoked.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// exitError carries an exit code for an error already reported to the user.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// report prints err once, at the top, and maps it to an exit code.
func report(stderr io.Writer, err error) int {
	var ue *usageError
	var ee *exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "trawl: %s\nRun 'trawl help' for usage.\n", ue.msg)
		return ExitUsage
	case trawl.ErrorCode(err) != trawl.EINTERNAL:
		fmt.Fprintf(stderr, "trawl: %s\n", trawl.ErrorMessage(err))
		if trawl.ErrorCode(err) == trawl.EINVALID {
			return ExitUsage
		}
		return ExitError
	default:
		fmt.Fprintf(stderr, "trawl: %v\n", err)
		return ExitError
	}
}

// newLogger returns the logger for diagnostics on stderr.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, usageErrorf("invalid log level %q: use debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTerminalFd(f.Fd())
}
