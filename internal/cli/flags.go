package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// parseFlags parses args with fs, allowing flags after positional arguments
// (`trawl run spider.yaml -o items.csv`), then fills every flag not given on
// the command line from its TRAWL_* environment twin. A bad environment
// value is an error, never ignored.
func parseFlags(fs *flag.FlagSet, args []string, env Env, stderr io.Writer) ([]string, error) {
	fs.SetOutput(stderr)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, &exitError{code: ExitOK}
			}
			return nil, &exitError{code: ExitUsage} // flag printed the problem
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil || len(f.Name) == 1 {
			return
		}
		name := envName(f.Name)
		if v := env.Getenv(name); v != "" {
			if e := f.Value.Set(v); e != nil {
				err = usageErrorf("invalid %s=%q: %v", name, v, e)
			}
		}
	})
	return pos, err
}

// envName is the environment twin of a flag: --max-pages is TRAWL_MAX_PAGES.
func envName(flagName string) string {
	return "TRAWL_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// newFlagSet returns a flag set whose usage names the environment twins.
func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: trawl %s\n\nFlags (each also read from TRAWL_<NAME>, e.g. --db is TRAWL_DB):\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}
