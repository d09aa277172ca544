package cli

import (
	"fmt"
	"os"

	"github.com/trawl-dev/trawl/internal/config"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// parseSettings is parse for a command whose flags come from a settings
// table (trawl serve, later trawl worker): it registers the table's flags
// and --config on fs, parses the command line, then fills what the command
// line did not give from the TRAWL_* environment, then from the config
// file, leaving the defaults for the rest (config.Table.Load). Flags that
// the command defines itself must be defined before. A misspelt TRAWL_
// variable is warned about on stderr; a bad value anywhere is a usage
// error, a config file's with its line and column.
func (fs *flagSet) parseSettings(args []string, env Env, tab *config.Table) ([]string, *config.Result, error) {
	tab.Register(fs.FlagSet)
	pos, err := fs.parseArgs(args, env)
	if err != nil {
		return nil, nil, err
	}
	var environ []string
	if env.Environ != nil {
		environ = env.Environ()
	}
	res, err := tab.Load(fs.FlagSet, config.Sources{
		Getenv:   env.Getenv,
		Environ:  environ,
		ReadFile: func(p string) ([]byte, error) { return os.ReadFile(env.path(p)) },
	})
	if err != nil {
		return nil, nil, fs.usageErrorf("%s", trawl.ErrorMessage(err))
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(env.Stderr, "trawl: warning: %s\n", w)
	}
	return pos, res, nil
}
