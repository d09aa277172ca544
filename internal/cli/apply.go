package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/trawl-dev/trawl/internal/client"
	"github.com/trawl-dev/trawl/internal/trawl"
)

const applyAbout = `Make the server's spiders match the spider files of DIR (*.yaml, *.yml,
*.json; not its subfolders): create the spiders that are new, update those
whose file changed, and with --prune delete the spiders DIR has no file for.
A spider's name is the name: in its file. Every file is checked first, as
trawl check does; if one has problems, nothing is changed. --dry-run prints
what would be done and changes nothing.`

// applyAction is what apply does to one spider.
type applyAction string

const (
	actCreate    applyAction = "created"
	actUpdate    applyAction = "updated"
	actUnchanged applyAction = "unchanged"
	actDelete    applyAction = "deleted"
	actKeep      applyAction = "kept" // on the server, not in DIR, and no --prune
)

// applyStep is one line of apply's plan.
type applyStep struct {
	act  applyAction
	name string
	file *spiderFile // nil for deleted and kept
}

func applyCmd(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("apply", "DIR [flags]", applyAbout)
	var r remote
	var prune, dryRun bool
	addRemoteFlags(fs, &r)
	fs.BoolVar(&prune, "prune", false, "also delete the stored spiders that DIR has no file for (their runs and datasets stay)")
	fs.BoolVar(&dryRun, "dry-run", false, "print what would be created, updated, unchanged and deleted, and change nothing")
	pos, err := fs.parse(args, env)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fs.usageErrorf("apply takes one folder of spider files, got %d arguments", len(pos))
	}
	c, err := r.client(fs)
	if err != nil {
		return err
	}
	paths, err := spiderPaths(pos[0], env)
	if err != nil {
		return err
	}
	files, err := readSpiderFiles(paths, env)
	if err != nil {
		return err
	}
	stored, err := c.AllSpiders(ctx)
	if err != nil {
		return err
	}
	plan := applyPlan(files, stored, prune)
	if dryRun {
		fmt.Fprintf(env.Stdout, "dry run: what trawl apply would do on %s\n", c.URL())
		printPlan(env, plan, true)
		return nil
	}
	var done []applyStep
	defer func() { printPlan(env, done, false) }()
	for _, st := range plan {
		switch st.act {
		case actCreate, actUpdate:
			if _, _, err := c.PutSpider(ctx, st.name, st.file.format, st.file.data); err != nil {
				return apiProblems(fmt.Errorf("put %s: %w", st.name, err), st.file.path, env)
			}
		case actDelete:
			if err := c.DeleteSpider(ctx, st.name); err != nil {
				return fmt.Errorf("delete %s: %w", st.name, err)
			}
		}
		done = append(done, st)
	}
	return nil
}

// spiderPaths lists the spider files of dir, sorted.
func spiderPaths(dir string, env Env) ([]string, error) {
	entries, err := os.ReadDir(env.path(dir))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, trawl.Errorf(trawl.EINVALID, "%s: no such folder", dir)
		}
		return nil, trawl.Errorf(trawl.EINVALID, "%s: %v", dir, err)
	}
	var paths []string
	for _, e := range entries {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".yaml", ".yml", ".json":
			if !e.IsDir() {
				paths = append(paths, filepath.Join(dir, e.Name()))
			}
		}
	}
	if len(paths) == 0 {
		return nil, trawl.Errorf(trawl.EINVALID, "%s holds no spider files (*.yaml, *.yml, *.json)", dir)
	}
	return paths, nil
}

// applyPlan compares the files with the stored spiders: a spider is
// unchanged when its stored source and format equal the file's (as the
// server's own idempotent put decides), else updated.
func applyPlan(files []spiderFile, stored []client.Spider, prune bool) []applyStep {
	byName := map[string]client.Spider{}
	for _, s := range stored {
		byName[s.Name] = s
	}
	var plan []applyStep
	local := map[string]bool{}
	for i := range files {
		f := &files[i]
		local[f.sp.Name] = true
		s, ok := byName[f.sp.Name]
		act := actCreate
		switch {
		case ok && s.Source == string(f.data) && s.Format == f.format:
			act = actUnchanged
		case ok:
			act = actUpdate
		}
		plan = append(plan, applyStep{act: act, name: f.sp.Name, file: f})
	}
	for _, s := range stored {
		if local[s.Name] {
			continue
		}
		act := actKeep
		if prune {
			act = actDelete
		}
		plan = append(plan, applyStep{act: act, name: s.Name})
	}
	slices.SortStableFunc(plan, func(a, b applyStep) int { return strings.Compare(a.name, b.name) })
	return plan
}

// printPlan prints one line per spider and a count of each action.
func printPlan(env Env, plan []applyStep, dryRun bool) {
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	counts := map[applyAction]int{}
	for _, st := range plan {
		counts[st.act]++
		from := ""
		switch {
		case st.file != nil:
			from = st.file.path
		case st.act == actKeep:
			from = "not in the folder; --prune deletes it"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", st.act, st.name, from)
	}
	tw.Flush()
	var parts []string
	for _, a := range []applyAction{actCreate, actUpdate, actUnchanged, actDelete, actKeep} {
		if counts[a] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[a], a))
		}
	}
	if len(parts) == 0 {
		return
	}
	line := strings.Join(parts, ", ")
	if dryRun {
		line += " (dry run: nothing was changed)"
	}
	fmt.Fprintln(env.Stdout, line)
}
