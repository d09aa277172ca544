package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/trawl-dev/trawl/internal/dryrun"
	"github.com/trawl-dev/trawl/internal/fetch"
)

// tryCmd fetches one page with a spider and prints what a run would do with
// it, storing nothing: the same dry run as POST /v1/try, run locally.
func tryCmd(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("try", "SPIDER.yaml [URL]", "Fetch one page with a spider (URL, or its first start URL) and print the items it "+
		"extracts, the links each follow rule finds (in or out of scope, followed or not) and the item rules that matched. "+
		"Nothing is stored and no server is needed; robots.txt is not consulted for this one page.")
	var asJSON bool
	fs.BoolVar(&asJSON, "json", false, "print the result as JSON, as POST /v1/try answers it")
	pos, err := fs.parse(args, env)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return fs.usageErrorf("try takes a spider file and perhaps a URL, got %d arguments", len(pos))
	}
	sp, err := loadSpider(pos[0], env)
	if err != nil {
		return err
	}
	var u string
	if len(pos) == 2 {
		u = pos[1]
	}
	fc := fetch.New(fetch.Config{})
	defer fc.Close()
	res, err := dryrun.Try(ctx, fc, sp, u)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(res)
	}
	printTry(env.Stdout, res)
	return nil
}

// printTry writes a dry run's result for people.
func printTry(w io.Writer, res *dryrun.Result) {
	status := "no response"
	if res.Status != 0 {
		status = fmt.Sprintf("status %d", res.Status)
	}
	fmt.Fprintf(w, "%s: %s\n", res.URL, status)
	for _, p := range res.Problems {
		fmt.Fprintf(w, "problem: %s\n", p.Message)
	}
	fmt.Fprintf(w, "\nItems (%d):\n", len(res.Items))
	for _, it := range res.Items {
		b, err := json.Marshal(it)
		if err != nil {
			b = []byte(err.Error())
		}
		fmt.Fprintf(w, "  %s\n", b)
	}
	fmt.Fprintf(w, "\nItem rules:\n")
	if len(res.Rules) == 0 {
		fmt.Fprintf(w, "  none\n")
	}
	for _, r := range res.Rules {
		matched := "matched"
		if !r.Matched {
			matched = "did not match"
		}
		fmt.Fprintf(w, "  items[%d]: %s, %d item%s\n", r.Rule, matched, r.Count, plural(r.Count))
	}
	fmt.Fprintf(w, "\nLinks:\n")
	if len(res.Links) == 0 {
		fmt.Fprintf(w, "  none\n")
	}
	rule := -1
	for _, l := range res.Links {
		if l.Rule != rule {
			rule = l.Rule
			in, out := 0, 0
			for _, m := range res.Links {
				if m.Rule == rule && m.InScope {
					in++
				} else if m.Rule == rule {
					out++
				}
			}
			fmt.Fprintf(w, "  follow[%d]: %d in scope, %d out of scope\n", rule, in, out)
		}
		mark := "-"
		if l.Followed {
			mark = "+"
		}
		fmt.Fprintf(w, "    %s %s  (%s)\n", mark, l.URL, l.Reason)
	}
}
