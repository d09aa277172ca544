package cli

import (
	"context"
	"fmt"
	"io"
	"runtime"

	"github.com/trawl-dev/trawl/internal/config"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// command is one subcommand of trawl.
type command struct {
	name    string
	summary string // one line in trawl's usage
	run     func(ctx context.Context, args []string, env Env) error
}

// commands lists the subcommands in the order trawl's usage shows them. It
// is a function, not a variable, because help refers back to it.
func commands() []command {
	return []command{
		{"run", "crawl a spider and store its items; -o also writes them to a file", runCmd},
		{"check", "validate spider files without fetching anything", checkCmd},
		{"try", "fetch one page with a spider and show its items and links", tryCmd},
		{"export", "write a dataset's items to a file or stdout", exportCmd},
		{"runs", "list runs; with a server, also start, cancel and watch them", runsCmd},
		{"datasets", "list the datasets in the database", datasetsCmd},
		{"serve", "run the HTTP API, the run queue and schedules (a service)", serveCmd},
		{"worker", "crawl the runs of a PostgreSQL database beside serve and other workers", workerCmd},
		{"migrate", "apply the database's schema migrations and exit", migrateCmd},
		{"spiders", "list, get, put and delete the spiders stored on a server", spidersCmd},
		{"apply", "make a server's spiders match a folder of spider files", applyCmd},
		{"items", "print a dataset's items from a server, filtered", itemsCmd},
		{"demo", "crawl the bundled demo website (no internet needed)", demoCmd},
		{"version", "print trawl's version", versionCmd},
		{"help", "show the usage and flags of a command", helpCmd},
	}
}

func lookupCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// unknownCommand is the error for a command trawl does not have: the
// nearest command name when there is one, not the whole usage.
func unknownCommand(name string) error {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	if s := suggest(name, names); s != "" {
		return usageErrorf("unknown command %q; did you mean %q?", name, s)
	}
	return usageErrorf("unknown command %q", name)
}

// usage prints trawl's usage: what each command does.
func usage(w io.Writer) {
	fmt.Fprint(w, "trawl collects structured data from websites.\n\nUsage:\n  trawl COMMAND [ARGUMENTS] [FLAGS]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'trawl help COMMAND' or 'trawl COMMAND -h' for the usage and flags of a
command. Every flag can also be set with an environment variable: --db is
TRAWL_DB, --concurrency is TRAWL_CONCURRENCY, and so on. The commands that
call a trawl server (spiders, apply, items, runs start|cancel|watch) take its
address from --server or TRAWL_SERVER, and its token from TRAWL_TOKEN.
`)
}

// helpCmd shows trawl's usage, or a command's usage and flags.
func helpCmd(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("help", "[COMMAND [SUBCOMMAND]]", "Show the usage and flags of COMMAND (or of its SUBCOMMAND, as in trawl help runs start), or list the commands.")
	pos, err := fs.parse(args, env)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
		usage(env.Stdout)
		return nil
	case len(pos) > 2:
		return fs.usageErrorf("help takes a command name and perhaps a subcommand, got %d arguments", len(pos))
	}
	cmd, ok := lookupCommand(pos[0])
	if !ok {
		return unknownCommand(pos[0])
	}
	return cmd.run(ctx, append(pos[1:], "-h"), env)
}

// versionCmd prints the version of this build.
func versionCmd(_ context.Context, args []string, env Env) error {
	fs := newFlagSet("version", "", "Print trawl's version, the Go version it was built with, and the platform.")
	pos, err := fs.parse(args, env)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fs.usageErrorf("version takes no arguments")
	}
	fmt.Fprintf(env.Stdout, "trawl %s (%s %s/%s)\n", trawl.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

// suggest returns the candidate nearest to s by edit distance, or "" when
// none is near enough to be what the user meant.
func suggest(s string, candidates []string) string {
	return config.Suggest(s, candidates)
}
