package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/agnivade/levenshtein"
	"gopkg.in/yaml.v3"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// FileFlag is the flag (and TRAWL_CONFIG) naming the config file.
const FileFlag = "config"

// Origin says where a setting's value came from.
type Origin string

// Origins, highest precedence first.
const (
	FromFlag    Origin = "flag"
	FromEnv     Origin = "env"
	FromFile    Origin = "file"
	FromDefault Origin = "default"
)

// Table is the settings of one command.
type Table struct {
	settings []Setting
	file     string // set by the --config flag
}

// NewTable returns the table of settings. Their names must be distinct and
// not "config", which the table adds itself.
func NewTable(settings ...Setting) *Table {
	seen := map[string]bool{FileFlag: true}
	for _, s := range settings {
		if seen[s.Name] {
			panic("config: setting " + s.Name + " defined twice") // a programmer's error in a table
		}
		seen[s.Name] = true
	}
	return &Table{settings: settings}
}

// Settings returns the table's settings in their order.
func (t *Table) Settings() []Setting { return t.settings }

// Register defines each setting as a flag of fs with its default and
// usage, and --config FILE.
func (t *Table) Register(fs *flag.FlagSet) {
	for _, s := range t.settings {
		fs.Var(flagValue{&s.value}, s.Name, s.Usage)
	}
	fs.StringVar(&t.file, FileFlag, "", "read settings from the YAML `FILE`; its keys are these flags' names (docs/operations.md)")
}

// Sources are what Load reads besides the command line.
type Sources struct {
	// Getenv reads an environment variable; nil means none is set.
	Getenv func(string) string
	// Environ lists the environment as KEY=value, to find misspelt TRAWL_
	// variables; nil skips that check.
	Environ []string
	// ReadFile reads the config file; nil means os.ReadFile.
	ReadFile func(string) ([]byte, error)
}

// Result is what Load found.
type Result struct {
	// File is the config file read, "" when none.
	File string
	// Origins maps each setting's name to where its value came from.
	Origins map[string]Origin
	// Warnings are mistakes that do not stop the command, such as a
	// TRAWL_ variable that is a near miss of a setting's name.
	Warnings []string
}

// Load fills every setting that the command line of flags (already parsed, and
// registered with Register) did not give: from its TRAWL_ environment
// variable when that is set and not empty, else from the config file's key
// (--config FILE, else TRAWL_CONFIG), else its default stays. Precedence is
// thus flag > environment > file > default. A bad environment value, an
// unreadable config file, an unknown key or a value of the wrong type is an
// error with code EINVALID; a file's problems are all reported, each as
// FILE:LINE:COL: message.
func (t *Table) Load(flags *flag.FlagSet, src Sources) (*Result, error) {
	getenv := src.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	given := map[string]bool{}
	flags.Visit(func(f *flag.Flag) { given[f.Name] = true })
	res := &Result{Origins: map[string]Origin{}, Warnings: t.envWarnings(src.Environ)}

	file := t.file
	if !given[FileFlag] {
		file = getenv(EnvName(FileFlag))
	}
	var values map[string]*yaml.Node
	if file != "" {
		read := src.ReadFile
		if read == nil {
			read = os.ReadFile
		}
		data, err := read(file)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, trawl.Errorf(trawl.EINVALID, "config file %s: no such file", file)
			}
			return nil, trawl.Errorf(trawl.EINVALID, "config file: %v", err)
		}
		if values, err = t.decodeFile(file, data); err != nil {
			return nil, err
		}
		res.File = file
	}
	for _, s := range t.settings {
		switch env := s.EnvName(); {
		case given[s.Name]:
			res.Origins[s.Name] = FromFlag
		case getenv(env) != "":
			if err := s.value.parse(getenv(env)); err != nil {
				return nil, trawl.Errorf(trawl.EINVALID, "invalid %s=%q: %v", env, getenv(env), err)
			}
			res.Origins[s.Name] = FromEnv
		case values[s.Name] != nil:
			n := values[s.Name]
			if err := s.value.parse(n.Value); err != nil {
				return nil, trawl.Errorf(trawl.EINVALID, "%s:%d:%d: %s: %v", file, n.Line, n.Column, s.Name, err)
			}
			res.Origins[s.Name] = FromFile
		default:
			res.Origins[s.Name] = FromDefault
		}
	}
	return res, nil
}

// decodeFile checks the config file strictly (one YAML mapping of known
// keys, each once, to scalar values of the setting's type) and returns the
// value node of each key. Every problem is reported, not only the first.
func (t *Table) decodeFile(file string, data []byte) (map[string]*yaml.Node, error) {
	var problems []string
	add := func(line, col int, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s:%d:%d: %s", file, line, col, fmt.Sprintf(format, args...)))
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return nil, nil // an empty file sets nothing
	case err != nil:
		return nil, trawl.Errorf(trawl.EINVALID, "%s: invalid YAML: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		add(extra.Line, extra.Column, `a config file holds one YAML document: remove this second one (after "---")`)
	}
	if len(doc.Content) == 0 || doc.Content[0].Tag == "!!null" {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, trawl.Errorf(trawl.EINVALID, "%s:%d:%d: the config file must be a mapping of settings (addr: 127.0.0.1:8080, ...)", file, root.Line, root.Column)
	}
	byName := map[string]Setting{}
	var names []string
	for _, s := range t.settings {
		byName[s.Name] = s
		names = append(names, s.Name)
	}
	values := map[string]*yaml.Node{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		s, ok := byName[k.Value]
		switch {
		case k.Kind != yaml.ScalarNode:
			add(k.Line, k.Column, "a key must be a setting's name")
		case !ok:
			msg := fmt.Sprintf("unknown key %q", k.Value)
			if near := Suggest(k.Value, names); near != "" {
				msg += fmt.Sprintf("; did you mean %q?", near)
			} else {
				msg += "; the keys are " + strings.Join(names, ", ")
			}
			add(k.Line, k.Column, "%s", msg)
		case values[k.Value] != nil:
			add(k.Line, k.Column, "%s is set twice (first on line %d)", k.Value, values[k.Value].Line)
		case v.Kind != yaml.ScalarNode || !s.value.yamlOK(v.Tag):
			add(v.Line, v.Column, "%s: want %s, got %s", k.Value, s.value.want, describe(v))
		default:
			values[k.Value] = v
		}
	}
	if len(problems) > 0 {
		return nil, trawl.Errorf(trawl.EINVALID, "%s", strings.Join(problems, "\n"))
	}
	return values, nil
}

// describe names a YAML node's kind for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.Tag {
	case "!!null":
		return "no value"
	case "!!int":
		return "the number " + n.Value
	case "!!float":
		return "the number " + n.Value
	case "!!bool":
		return "the boolean " + n.Value
	}
	return fmt.Sprintf("%q", n.Value)
}

// envWarnings finds TRAWL_ variables in environ that are not settings of
// the table but nearly spell one (TRAWL_ADRR for TRAWL_ADDR): set, they
// would be silently ignored.
func (t *Table) envWarnings(environ []string) []string {
	known := map[string]bool{EnvName(FileFlag): true}
	var names []string // without TRAWL_, which every name shares
	for _, s := range t.settings {
		known[s.EnvName()] = true
		names = append(names, strings.TrimPrefix(s.EnvName(), "TRAWL_"))
	}
	var out []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		rest, ours := strings.CutPrefix(k, "TRAWL_")
		if !ours || known[k] {
			continue
		}
		if near := Suggest(rest, names); near != "" {
			out = append(out, fmt.Sprintf("%s is not a setting and is ignored; did you mean TRAWL_%s?", k, near))
		}
	}
	return out
}

// Suggest returns the candidate nearest to s by edit distance, or "" when
// none is near enough to be what the user meant.
func Suggest(s string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		d := levenshtein.ComputeDistance(strings.ToLower(s), strings.ToLower(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 || bestD > max(2, len(s)/3) || bestD >= len(s) {
		return ""
	}
	return best
}
