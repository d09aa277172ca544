package cli

import (
	"context"
	"fmt"
)

// checkCmd validates spider files without fetching anything.
func checkCmd(_ context.Context, args []string, env Env) error {
	fs := newFlagSet("check", "SPIDER.yaml...", "Validate spider files without fetching anything: every problem is printed as FILE:LINE:COL: PATH: message.")
	pos, err := fs.parse(args, env)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return fs.usageErrorf("check takes one or more spider files")
	}
	bad := 0
	for _, path := range pos {
		sp, err := loadSpider(path, env)
		if err != nil {
			report(env.Stderr, err)
			bad++
			continue
		}
		fmt.Fprintf(env.Stdout, "%s: ok (spider %q: %d start URL%s, %d follow rule%s, %d item rule%s)\n", path, sp.Name,
			len(sp.StartURLs), plural(len(sp.StartURLs)), len(sp.Follow), plural(len(sp.Follow)), len(sp.Items), plural(len(sp.Items)))
	}
	if bad > 0 {
		return &exitError{code: ExitUsage}
	}
	return nil
}
