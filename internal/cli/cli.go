// Package cli is trawl's composition root: subcommands, flags with TRAWL_*
// environment twins, the choice of store from --db, and the wiring of every
// other package. Only cmd/trawl and end-to-end tests import it.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// Exit codes. README.md "Command line" documents them; keep the two in step.
const (
	ExitOK    = 0
	ExitError = 1 // a fatal error (database, disk), or a run that fetched no page at all
	ExitUsage = 2 // bad flags, arguments or spider
	// ExitTempFail is EX_TEMPFAIL of sysexits.h: the disk filled up. Nothing
	// committed is lost; the same command resumes once there is space.
	ExitTempFail    = 75
	ExitInterrupted = 130 // stopped by a signal; the run can be resumed
)

// Env is the process environment as given to Main.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads an environment variable; nil means none are set.
	Getenv func(string) string
	// Environ lists the environment as KEY=value (os.Environ), to warn of
	// misspelt TRAWL_ variables; nil skips that warning.
	Environ func() []string
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
	var err error
	switch name := args[0]; name {
	case "-h", "--help", "-help":
		usage(env.Stdout)
	case "--version", "-version":
		err = versionCmd(ctx, nil, env)
	default:
		cmd, ok := lookupCommand(name)
		if !ok {
			err = unknownCommand(name)
			break
		}
		err = cmd.run(ctx, args[1:], env)
	}
	return report(env.Stderr, err)
}

// usageError is a mistake in how trawl was invoked.
type usageError struct {
	msg string
	// cmd is the command whose usage the user should read; "" for trawl's.
	cmd string
}

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// exitError carries an exit code for an error already reported to the user.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// dbError is a database that the store refused to open (read-only, not
// trawl's, too new): a fatal error, exit 1, even where the store classifies
// it as invalid input.
type dbError struct{ err error }

func (e *dbError) Error() string { return e.err.Error() }
func (e *dbError) Unwrap() error { return e.err }

// report prints err once, at the top, and maps it to an exit code.
func report(stderr io.Writer, err error) int {
	var ue *usageError
	var ee *exitError
	var de *dbError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, store.ErrDiskFull):
		// Before a run started (opening the database, creating the run):
		// nothing is lost either, so it is a temporary failure too.
		fmt.Fprintf(stderr, "trawl: the disk holding the database is full (%s): free some space, then run the same command again\n", errorText(err))
		return ExitTempFail
	case errors.As(err, &de):
		fmt.Fprintf(stderr, "trawl: %s\n", errorText(de.err))
		return ExitError
	case errors.As(err, &ue):
		help := "trawl help"
		if ue.cmd != "" {
			help += " " + ue.cmd
		}
		fmt.Fprintf(stderr, "trawl: %s\nRun '%s' for usage.\n", ue.msg, help)
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

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTerminalFd(f.Fd())
}
