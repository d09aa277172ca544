package cli

import (
	"context"
	"fmt"
)

// checkCmd validates spider files without fetching anything.
func checkCmd(_ context.Context, args []string, env Env) error {
	fs := newFlagSet("check", "check SPIDER.yaml...")
	pos, err := parseFlags(fs, args, env, env.Stderr)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErrorf("check takes one or more spider files")
	}
	bad := 0
	for _, path := range pos {
		sp, err := loadSpider(path, env)
		if err != nil {
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
