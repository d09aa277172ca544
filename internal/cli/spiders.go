package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/trawl"
)

const spidersAbout = `List the spiders stored on a trawl server. Subcommands: get NAME prints a
stored spider's file; put FILE... stores spider files (create or update);
delete NAME... removes stored spiders (their runs and datasets stay). See
'trawl help spiders put' and so on; trawl apply makes the server's spiders
match a folder.`

// spidersCmd manages the spiders stored on a server.
func spidersCmd(ctx context.Context, args []string, env Env) error {
	return dispatch(ctx, "spiders", []subcommand{
		{"list", spidersList},
		{"get", spidersGet},
		{"put", spidersPut},
		{"delete", spidersDelete},
	}, spidersList, args, env)
}

func spidersList(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("spiders", "[list] [flags]", spidersAbout)
	var r remote
	addRemoteFlags(fs, &r)
	pos, err := fs.parse(args, env)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fs.usageErrorf("spiders list takes no arguments; to see one spider: trawl spiders get %s", pos[0])
	}
	c, err := r.client(fs)
	if err != nil {
		return err
	}
	all, err := c.AllSpiders(ctx)
	if err != nil {
		return err
	}
	if len(all) == 0 {
		fmt.Fprintf(env.Stderr, "no spiders on %s: store one with trawl spiders put FILE or trawl apply DIR\n", c.URL())
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tSCHEDULE\tNEXT RUN\tUPDATED")
	for _, s := range all {
		next := "-"
		if s.NextRunAt != nil {
			next = formatTime(*s.NextRunAt)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", s.Name, s.Version, cmpDash(s.Schedule), next, formatTime(s.UpdatedAt))
	}
	return tw.Flush()
}

func spidersGet(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("spiders get", "NAME [flags]", "Print the file of the stored spider NAME as it was put, so that trawl spiders get NAME > NAME.yaml gets it back.")
	var r remote
	addRemoteFlags(fs, &r)
	pos, err := fs.parse(args, env)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fs.usageErrorf("spiders get takes one spider name, got %d arguments", len(pos))
	}
	c, err := r.client(fs)
	if err != nil {
		return err
	}
	s, err := c.Spider(ctx, pos[0])
	if err != nil {
		return err
	}
	_, err = io.WriteString(env.Stdout, s.Source)
	return err
}

func spidersPut(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("spiders put", "FILE... [flags]",
		"Store each spider file (YAML or JSON) on the server under its name: as a new spider, or as a new version of the stored one. Every file is checked first, as trawl check does; if one has problems, none is stored.")
	var r remote
	addRemoteFlags(fs, &r)
	pos, err := fs.parse(args, env)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return fs.usageErrorf("spiders put takes one or more spider files")
	}
	c, err := r.client(fs)
	if err != nil {
		return err
	}
	files, err := readSpiderFiles(pos, env)
	if err != nil {
		return err
	}
	for _, f := range files {
		s, created, err := c.PutSpider(ctx, f.sp.Name, f.format, f.data)
		if err != nil {
			return apiProblems(err, f.path, env)
		}
		verb := "stored"
		if created {
			verb = "created"
		}
		fmt.Fprintf(env.Stdout, "%s %s from %s (version %d)\n", verb, s.Name, f.path, s.Version)
	}
	return nil
}

func spidersDelete(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("spiders delete", "NAME... [flags]", "Remove the stored spiders NAME... and their schedules. Their runs and datasets stay, listed and exportable.")
	var r remote
	addRemoteFlags(fs, &r)
	pos, err := fs.parse(args, env)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return fs.usageErrorf("spiders delete takes one or more spider names")
	}
	c, err := r.client(fs)
	if err != nil {
		return err
	}
	for _, name := range pos {
		if err := c.DeleteSpider(ctx, name); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "deleted %s\n", name)
	}
	return nil
}

// spiderFile is a spider file read and checked locally.
type spiderFile struct {
	path   string // as the user named it
	data   []byte
	format string // yaml or json, from the extension
	sp     *spider.Spider
}

// readSpiderFiles reads and parses every file, printing the problems of
// each invalid one as trawl check does. If any file has problems, or two
// files define the same spider, it returns an error and nothing else.
func readSpiderFiles(paths []string, env Env) ([]spiderFile, error) {
	var files []spiderFile
	bad := 0
	byName := map[string]string{}
	for _, p := range paths {
		data, err := os.ReadFile(env.path(p))
		if errors.Is(err, os.ErrNotExist) {
			return nil, trawl.Errorf(trawl.EINVALID, "%s: no such file", p)
		} else if err != nil {
			return nil, fmt.Errorf("read spider: %w", err)
		}
		sp, err := spider.Parse(p, data)
		var ve *spider.ValidationError
		switch {
		case errors.As(err, &ve):
			fmt.Fprintln(env.Stderr, ve.Error())
			bad++
			continue
		case err != nil:
			return nil, err
		}
		if other, dup := byName[sp.Name]; dup {
			return nil, trawl.Errorf(trawl.EINVALID, "%s and %s both define the spider %s: give one of them another name", other, p, sp.Name)
		}
		byName[sp.Name] = p
		format := "yaml"
		if strings.EqualFold(filepath.Ext(p), ".json") {
			format = "json"
		}
		files = append(files, spiderFile{path: p, data: data, format: format, sp: sp})
	}
	if bad > 0 {
		fmt.Fprintf(env.Stderr, "trawl: %d of %d spider file%s %s problems; nothing was sent to the server\n", bad, len(paths), plural(len(paths)), map[bool]string{true: "has", false: "have"}[bad == 1])
		return nil, &exitError{code: ExitUsage}
	}
	return files, nil
}

// cmpDash is s, or "-" when it is empty.
func cmpDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
