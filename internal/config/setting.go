// Package config defines a command's settings once, as a table, and fills
// them from the command line, TRAWL_* environment variables and a YAML
// config file, in that order of precedence, before their defaults.
package config

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Setting is one setting of a command. Its Name is at once the long flag
// (--max-runs), the config file key (max-runs) and, upper-cased with
// underscores, the environment variable (TRAWL_MAX_RUNS).
type Setting struct {
	Name string
	// Usage is the flag's help text; a word in backquotes names its
	// argument, as in the flag package.
	Usage string
	value value
}

// Default returns the setting's default as a user would write it.
func (s Setting) Default() string { return s.value.def }

// EnvName returns the environment variable of the setting: TRAWL_ and its
// name upper-cased, dashes as underscores.
func (s Setting) EnvName() string { return EnvName(s.Name) }

// EnvName returns the environment variable of the setting or flag name:
// max-runs is TRAWL_MAX_RUNS.
func EnvName(name string) string {
	return "TRAWL_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// value is a setting's destination: parse stores into it, and yamlOK says
// which YAML scalar tags may stand for it in a config file.
type value struct {
	def    string
	want   string // what a valid value looks like, for messages
	parse  func(string) error
	show   func() string
	isBool bool
	yamlOK func(tag string) bool
}

// flagValue adapts a value to flag.Value (and the flag package's optional
// IsBoolFlag, so --pprof needs no argument).
type flagValue struct{ v *value }

func (f flagValue) String() string {
	if f.v == nil || f.v.show == nil {
		return ""
	}
	return f.v.show()
}
func (f flagValue) Set(s string) error { return f.v.parse(s) }
func (f flagValue) IsBoolFlag() bool   { return f.v.isBool }

func anyScalar(tag string) bool { return tag != "!!null" }
func tagIs(tags ...string) func(string) bool {
	return func(tag string) bool { return slices.Contains(tags, tag) }
}

// String is a text setting stored in *p, default def.
func String(p *string, name, def, usage string) Setting {
	*p = def
	return Setting{Name: name, Usage: usage, value: value{
		def: def, want: "a string",
		parse:  func(s string) error { *p = s; return nil },
		show:   func() string { return *p },
		yamlOK: anyScalar, // a token of digits is a YAML number, and still a string
	}}
}

// Int is a whole-number setting stored in *p, default def; values below
// lowest are refused.
func Int(p *int, name string, def, lowest int, usage string) Setting {
	*p = def
	return Setting{Name: name, Usage: usage, value: value{
		def: strconv.Itoa(def), want: fmt.Sprintf("a whole number, at least %d", lowest),
		parse: func(s string) error {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return fmt.Errorf("want a whole number, got %q", s)
			}
			if n < lowest {
				return fmt.Errorf("must be at least %d, got %d", lowest, n)
			}
			*p = n
			return nil
		},
		show:   func() string { return strconv.Itoa(*p) },
		yamlOK: tagIs("!!int"),
	}}
}

// Bool is an on/off setting stored in *p, default false. On the command
// line it is a switch (--pprof, or --pprof=false).
func Bool(p *bool, name, usage string) Setting {
	*p = false
	return Setting{Name: name, Usage: usage, value: value{
		def: "false", want: "true or false", isBool: true,
		parse: func(s string) error {
			b, err := strconv.ParseBool(strings.TrimSpace(s))
			if err != nil {
				return fmt.Errorf("want true or false, got %q", s)
			}
			*p = b
			return nil
		},
		show:   func() string { return strconv.FormatBool(*p) },
		yamlOK: tagIs("!!bool"),
	}}
}

// Duration is a time setting stored in *p, default def. Values are Go
// durations (300ms, 30s, 10m, 1h30m) or whole days (7d, 1d12h); negative
// ones are refused.
func Duration(p *time.Duration, name string, def time.Duration, usage string) Setting {
	*p = def
	return Setting{Name: name, Usage: usage, value: value{
		def: FormatDuration(def), want: "a duration like 30s, 10m or 7d",
		parse: func(s string) error {
			d, err := ParseDuration(s)
			if err != nil {
				return err
			}
			*p = d
			return nil
		},
		show:   func() string { return FormatDuration(*p) },
		yamlOK: tagIs("!!str"), // 30 without a unit is a YAML !!int: refused
	}}
}

// Enum is a setting stored in *p whose value is one of choices (compared
// ignoring case, stored lower-case), default def.
func Enum(p *string, name, def string, choices []string, usage string) Setting {
	*p = def
	list := strings.Join(choices, ", ")
	return Setting{Name: name, Usage: usage, value: value{
		def: def, want: "one of " + list,
		parse: func(s string) error {
			v := strings.ToLower(strings.TrimSpace(s))
			if !slices.Contains(choices, v) {
				return fmt.Errorf("want one of %s, got %q", list, s)
			}
			*p = v
			return nil
		},
		show:   func() string { return *p },
		yamlOK: tagIs("!!str"),
	}}
}

// ParseDuration parses a Go duration (time.ParseDuration) that may start
// with whole days, as in 7d or 1d12h. Negative durations are refused.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	var days time.Duration
	if i := strings.IndexByte(t, 'd'); i > 0 {
		n, err := strconv.Atoi(t[:i])
		if err != nil || n < 0 || n > 100000 {
			return 0, fmt.Errorf("want a duration like 30s, 10m or 7d, got %q", s)
		}
		days, t = time.Duration(n)*24*time.Hour, t[i+1:]
		if t == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("want a duration like 30s, 10m or 7d, got %q", s)
	}
	if d < 0 {
		return 0, errors.New("must not be negative, got " + strconv.Quote(s))
	}
	return days + d, nil
}

// FormatDuration writes d the way ParseDuration reads it, briefly: 7d,
// 10m, 1h30m, 30s, 0s.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	if days := d / (24 * time.Hour); days > 0 && d%time.Hour == 0 {
		fmt.Fprintf(&b, "%dd", days)
		d -= days * 24 * time.Hour
		if d == 0 {
			return b.String()
		}
	}
	s := d.String()
	for _, zero := range []string{"0s", "0m"} {
		if strings.HasSuffix(s, "m"+zero) || strings.HasSuffix(s, "h"+zero) {
			s = strings.TrimSuffix(s, zero)
		}
	}
	return b.String() + s
}

var _ flag.Value = flagValue{}
