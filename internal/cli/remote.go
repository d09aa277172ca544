package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/trawl-dev/trawl/internal/client"
	"github.com/trawl-dev/trawl/internal/spider"
)

// remote are the flags of the commands that call a trawl server's API.
type remote struct {
	server, token string
}

// addRemoteFlags defines --server and --token on fs.
func addRemoteFlags(fs *flagSet, r *remote) {
	fs.StringVar(&r.server, "server", "", "call the trawl server at `URL` (trawl serve), e.g. http://127.0.0.1:8080")
	fs.StringVar(&r.token, "token", "", "send `TOKEN` as the bearer token (prefer TRAWL_TOKEN: flags show in ps)")
}

// client returns the API client of r's server; without one, a usage error
// of the command fs that says how to name it.
func (r remote) client(fs *flagSet) (*client.Client, error) {
	if r.server == "" {
		return nil, fs.usageErrorf("%s needs a server: --server URL or TRAWL_SERVER (the address of trawl serve, e.g. http://127.0.0.1:8080)", fs.name)
	}
	c, err := client.New(r.server, r.token, nil)
	if err != nil {
		return nil, fs.usageErrorf("--server: %v", strings.TrimPrefix(err.Error(), "trawl error: code=invalid message="))
	}
	return c, nil
}

// subcommand is one subcommand of a command with several (trawl runs get).
type subcommand struct {
	name string
	run  func(ctx context.Context, args []string, env Env) error
}

// dispatch runs the subcommand named by args[0], or def when args is empty
// or starts with a flag. A word that names no subcommand is a usage error
// with the nearest name.
func dispatch(ctx context.Context, parent string, subs []subcommand, def func(ctx context.Context, args []string, env Env) error, args []string, env Env) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return def(ctx, args, env)
	}
	var names []string
	for _, s := range subs {
		if s.name == args[0] {
			return s.run(ctx, args[1:], env)
		}
		names = append(names, s.name)
	}
	e := &usageError{cmd: parent, msg: fmt.Sprintf("unknown subcommand %q of trawl %s: want %s", args[0], parent, strings.Join(names, ", "))}
	if s := suggest(args[0], names); s != "" {
		e.msg = fmt.Sprintf("unknown subcommand %q of trawl %s; did you mean %q?", args[0], parent, s)
	}
	return e
}

// apiProblems prints the validation problems of a spider the server
// refused (file:line:col: path: message, as trawl check does) and returns
// the error to end the command with: exit 2. Other errors pass through.
func apiProblems(err error, file string, env Env) error {
	var ae *client.Error
	if !errors.As(err, &ae) || len(ae.Problems) == 0 {
		return err
	}
	fmt.Fprintln(env.Stderr, (&spider.ValidationError{File: file, Problems: ae.Problems}).Error())
	fmt.Fprintf(env.Stderr, "trawl: the server refused %s: %s\n", file, ae.Message())
	return &exitError{code: ExitUsage}
}

// newTable returns a tabwriter for plain left-aligned columns.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}
