package spider

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// scheduleHint tells users which schedules are accepted.
const scheduleHint = `use "@every 1h", "@hourly", "@daily", "@weekly", "@monthly", "@yearly" or a 5-field cron expression like "30 2 * * 1-5"`

// cronField describes one field of a 5-field cron expression.
type cronField struct {
	name     string
	min, max int
	names    []string // names[i] stands for min+i, matched case-insensitively
}

func cronFields() []cronField {
	return []cronField{
		{name: "minute", min: 0, max: 59},
		{name: "hour", min: 0, max: 23},
		{name: "day-of-month", min: 1, max: 31},
		{name: "month", min: 1, max: 12, names: []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
		{name: "day-of-week", min: 0, max: 6, names: []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
	}
}

// checkSchedule validates a schedule: "@every D" with D > 0, one of the
// @hourly family, or a 5-field cron expression whose fields use *, */n, a,
// a-b, a-b/n and comma lists within their ranges.
func checkSchedule(s string) error {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil || d <= 0 {
			return fmt.Errorf("invalid schedule %q: @every needs a positive Go duration like 30m or 1h", s)
		}
		return nil
	}
	switch s {
	case "@hourly", "@daily", "@weekly", "@monthly", "@yearly":
		return nil
	}
	if strings.HasPrefix(s, "@") {
		return fmt.Errorf("invalid schedule %q: %s", s, scheduleHint)
	}
	parts := strings.Fields(s)
	if len(parts) != 5 {
		return fmt.Errorf("invalid schedule %q: a cron expression has 5 fields (minute hour day-of-month month day-of-week), got %d; %s", s, len(parts), scheduleHint)
	}
	for i, f := range cronFields() {
		if err := f.check(parts[i]); err != nil {
			return fmt.Errorf("invalid schedule %q: %s field: %w", s, f.name, err)
		}
	}
	return nil
}

// check validates one field: a comma list of terms, each "*", "a" or "a-b",
// optionally followed by "/n".
func (f cronField) check(field string) error {
	for term := range strings.SplitSeq(field, ",") {
		rng, step, hasStep := strings.Cut(term, "/")
		if hasStep {
			n, err := strconv.Atoi(step)
			if err != nil || n < 1 || n > f.max-f.min+1 {
				return fmt.Errorf("step %q must be a number from 1 to %d", step, f.max-f.min+1)
			}
		}
		if rng == "*" {
			continue
		}
		lo, hi, isRange := strings.Cut(rng, "-")
		a, err := f.value(lo)
		if err != nil {
			return err
		}
		if !isRange {
			continue
		}
		b, err := f.value(hi)
		if err != nil {
			return err
		}
		if a > b {
			return fmt.Errorf("range %q goes backwards", rng)
		}
	}
	return nil
}

// value parses one number or name of the field and checks its range.
func (f cronField) value(s string) (int, error) {
	for i, name := range f.names {
		if strings.EqualFold(s, name) {
			return f.min + i, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < f.min || n > f.max {
		return 0, fmt.Errorf("%q is not a value from %d to %d", s, f.min, f.max)
	}
	return n, nil
}
