package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// flagSet is a command's flags, printed the way the tools people know print
// them: two dashes, each flag once with its short form beside it
// (-o, --output FILE), and a misspelt flag answered with the nearest one.
type flagSet struct {
	*flag.FlagSet
	name  string // the command
	args  string // the arguments after the command in its synopsis
	about string // what the command does, for its help
	// short maps a one-letter alias to the flag it stands for.
	short map[string]string
}

func newFlagSet(name, args, about string) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), name: name, args: args, about: about, short: map[string]string{}}
	// The flag package prints errors and usage itself; parse reports them
	// once, in our words.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// alias makes -short another name of the flag --long.
func (fs *flagSet) alias(short, long string) {
	f := fs.Lookup(long)
	fs.Var(f.Value, short, f.Usage)
	fs.short[short] = long
}

// usageErrorf returns a usage error that points at this command's help.
func (fs *flagSet) usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), cmd: fs.name}
}

// parse parses args, allowing flags after positional arguments (`trawl run
// spider.yaml -o items.csv`), then fills every flag not given on the
// command line from its TRAWL_* environment twin. A bad environment value is
// an error, never ignored. -h prints the command's usage on stdout.
func (fs *flagSet) parse(args []string, env Env) ([]string, error) {
	pos, err := fs.parseArgs(args, env)
	if err != nil {
		return nil, err
	}
	return pos, fs.applyEnv(env)
}

// parseArgs parses the command line only; see parse.
func (fs *flagSet) parseArgs(args []string, env Env) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.printUsage(env.Stdout)
				return nil, &exitError{code: ExitOK}
			}
			return nil, fs.flagError(err)
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
	return pos, nil
}

// applyEnv fills every flag not given on the command line from its
// TRAWL_* environment twin.
func (fs *flagSet) applyEnv(env Env) error {
	set := fs.given()
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil || fs.short[f.Name] != "" {
			return
		}
		name := envName(f.Name)
		if v := env.Getenv(name); v != "" {
			if e := f.Value.Set(v); e != nil {
				err = fs.usageErrorf("invalid %s=%q: %v", name, v, e)
			}
		}
	})
	return err
}

// given returns the flags given on the command line, by long name.
func (fs *flagSet) given() map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true; set[fs.short[f.Name]] = true })
	return set
}

// flagMention matches a flag as the flag package names it in its errors.
var flagMention = regexp.MustCompile(`(^|\s)-([a-zA-Z][a-zA-Z0-9-]*)`)

// flagError rewords an error of the flag package: a flag the command lacks
// gets the nearest one it has, and flags are named as the help names them.
func (fs *flagSet) flagError(err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		var names []string
		fs.VisitAll(func(f *flag.Flag) {
			if fs.short[f.Name] == "" {
				names = append(names, f.Name)
			}
		})
		if s := suggest(name, names); s != "" {
			return fs.usageErrorf("unknown flag %s; did you mean --%s?", dashed(name), s)
		}
		return fs.usageErrorf("unknown flag %s", dashed(name))
	}
	msg = strings.Replace(msg, "for flag -", "for -", 1)
	msg = flagMention.ReplaceAllStringFunc(msg, func(m string) string {
		i := strings.Index(m, "-")
		if fs.Lookup(m[i+1:]) == nil {
			return m
		}
		return m[:i] + dashed(m[i+1:])
	})
	return fs.usageErrorf("%s", msg)
}

// dashed writes a flag name as users type it: -o, --output.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// envName is the environment twin of a flag: --max-pages is TRAWL_MAX_PAGES.
func envName(flagName string) string {
	return "TRAWL_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// helpWidth is the width help texts are wrapped to.
const helpWidth = 80

// printUsage prints the command's synopsis, what it does and its flags,
// each once, with its short form, argument, default and environment twin.
func (fs *flagSet) printUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: trawl %s\n", strings.TrimSpace(fs.name+" "+fs.args))
	if fs.about != "" {
		fmt.Fprintf(w, "\n%s\n", wrap(fs.about, helpWidth, ""))
	}
	type row struct{ left, right string }
	var rows []row
	long := map[string]string{}
	for s, l := range fs.short {
		long[l] = s
	}
	fs.VisitAll(func(f *flag.Flag) {
		if fs.short[f.Name] != "" {
			return
		}
		arg, text := flag.UnquoteUsage(f)
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			arg = ""
		}
		left := "    --" + f.Name
		if s := long[f.Name]; s != "" {
			left = "-" + s + ", --" + f.Name
		}
		if arg != "" {
			left += " " + arg
		}
		if d := f.DefValue; d != "" && d != "false" && d != "0" {
			text += " (default " + d + ")"
		}
		rows = append(rows, row{left, text})
	})
	if len(rows) == 0 {
		return // no empty Flags heading
	}
	width := 0
	for _, r := range rows {
		width = max(width, len(r.left))
	}
	example := "db"
	if fs.Lookup(example) == nil && fs.Lookup("server") != nil {
		example = "server"
	}
	if fs.Lookup(example) == nil {
		fs.VisitAll(func(f *flag.Flag) {
			if example == "db" && len(f.Name) > 1 {
				example = f.Name
			}
		})
	}
	fmt.Fprintf(w, "\nFlags (each also read from TRAWL_<NAME>: --%s from %s):\n", example, envName(example))
	indent := strings.Repeat(" ", width+5)
	for _, r := range rows {
		fmt.Fprintf(w, "  %-*s   %s\n", width, r.left, wrap(r.right, helpWidth-len(indent), indent))
	}
}

// wrap breaks text into lines of at most width bytes at spaces, and starts
// every line but the first with indent.
func wrap(text string, width int, indent string) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(text) {
		if i > 0 && n+1+len(word) > width {
			b.WriteString("\n" + indent)
			n = 0
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}
