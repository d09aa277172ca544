package spider

import (
	"fmt"
	"strings"
	"time"
	// The zone names a schedule may give after CRON_TZ= must mean the same
	// on every machine: the laptop that ran `trawl check` and the container
	// that fires the schedule may have different (or no) zoneinfo. Embedding
	// the database makes a name valid wherever the binary runs.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"
)

// MinScheduleInterval is the shortest gap between two runs that "@every"
// accepts. Each scheduled run is a whole crawl: starting one more often than
// this would hammer the crawled sites (politeness is per run, not across
// runs) and flood the job queue with runs that overlap. A 5-field cron
// expression cannot fire more often than once a minute either.
const MinScheduleInterval = time.Minute

// scheduleHint tells users which schedules are accepted.
const scheduleHint = `use a 5-field cron expression (minute hour day-of-month month day-of-week) like "30 2 * * 1-5", ` +
	`a descriptor like "@daily", or "@every 1h"; prefix "CRON_TZ=Europe/Paris " for a time zone other than UTC`

// cronParser is the one parser of schedules: `trawl check` validates with it
// and the service fires the value it returns, so the two cannot disagree.
// Standard 5-field cron (minute resolution, no seconds field: nothing runs
// more often than once a minute anyway) plus descriptors (@yearly,
// @annually, @monthly, @weekly, @daily, @midnight, @hourly, @every D).
// A Parser holds only its options, so sharing it is safe.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// cronFieldParsers parse one field each, in order, with the same parser
// code. They only name the field that is wrong in an error message.
var cronFieldParsers = []struct {
	name   string
	parser cron.Parser
}{
	{"minute", cron.NewParser(cron.Minute)},
	{"hour", cron.NewParser(cron.Hour)},
	{"day-of-month", cron.NewParser(cron.Dom)},
	{"month", cron.NewParser(cron.Month)},
	{"day-of-week", cron.NewParser(cron.Dow)},
}

// Cron is a compiled schedule: what a spider's `schedule:` fires on. It is
// immutable and safe for concurrent use. Its Next method satisfies River's
// rivertype.PeriodicSchedule, so the service can hand it to a periodic job
// as is.
type Cron struct {
	source string
	sched  cron.Schedule
}

// ParseCron compiles a schedule. Accepted, after trimming spaces:
//
//   - a 5-field cron expression "minute hour day-of-month month day-of-week"
//     with *, ?, lists (1,15), ranges (9-17), steps (*/15, 9-17/2) and names
//     (JAN-DEC, SUN-SAT, any case); day-of-week is 0-6 with 0 = Sunday;
//   - a descriptor: @yearly, @annually, @monthly, @weekly, @daily,
//     @midnight, @hourly;
//   - "@every D" with D a Go duration of at least [MinScheduleInterval] and a
//     whole number of seconds;
//   - any of the above after a "CRON_TZ=Zone " or "TZ=Zone " prefix, Zone
//     being an IANA name like Europe/Paris.
//
// Without a prefix, times are UTC, never the local zone of the machine, so
// that every worker fires a spider at the same instant. A seconds field is
// refused, and so is an expression that can never fire (30 February).
func ParseCron(s string) (*Cron, error) {
	s = strings.TrimSpace(s)
	sched, err := parseCron(s)
	if err != nil {
		return nil, fmt.Errorf("invalid schedule %q: %s; %s", s, err, scheduleHint)
	}
	return &Cron{source: s, sched: sched}, nil
}

// Next returns the first time after t at which the schedule fires, in t's
// location. For "@every D" it is t+D (rounded down to the second).
func (c *Cron) Next(t time.Time) time.Time { return c.sched.Next(t) }

// String returns the schedule as written, without surrounding spaces.
func (c *Cron) String() string { return c.source }

// parseCron parses s with cronParser and applies trawl's rules on top.
func parseCron(s string) (cron.Schedule, error) {
	spec, hasZone, err := checkZone(s)
	if err != nil {
		return nil, err
	}
	sched, err := safeParse(cronParser, s)
	if err != nil {
		return nil, explainCron(spec, err)
	}
	switch sc := sched.(type) {
	case cron.ConstantDelaySchedule:
		if err := checkEvery(spec); err != nil {
			return nil, err
		}
	case *cron.SpecSchedule:
		if !hasZone {
			// The parser defaults to time.Local, which makes Next use the
			// zone of the time it is given: UTC on one worker, CEST on the
			// next. Pin it.
			sc.Location = time.UTC
		}
		// The parser accepts dates that do not exist, and Next then returns
		// the zero time. Look from a fixed time to stay deterministic; 2000
		// is a leap year, so "0 0 29 2 *" fires.
		if sc.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
			return nil, fmt.Errorf("it never fires (no such date)")
		}
	}
	return sched, nil
}

// checkZone returns s without its CRON_TZ=/TZ= prefix and whether it had
// one. It rejects what the parser would mishandle: a prefix with nothing
// after it (the parser panics), an empty zone (silently UTC) and "Local"
// (the zone of whichever machine fires it).
func checkZone(s string) (spec string, hasZone bool, err error) {
	if !strings.HasPrefix(s, "TZ=") && !strings.HasPrefix(s, "CRON_TZ=") {
		return s, false, nil
	}
	prefix, rest, ok := strings.Cut(s, " ")
	if !ok || strings.TrimSpace(rest) == "" {
		return "", true, fmt.Errorf("a time zone prefix needs a schedule after it, like \"CRON_TZ=Europe/Paris 0 9 * * *\"")
	}
	_, zone, _ := strings.Cut(prefix, "=")
	if zone == "" || zone == "Local" {
		return "", true, fmt.Errorf("time zone %q: name an IANA zone like Europe/Paris or UTC", zone)
	}
	return strings.TrimSpace(rest), true, nil
}

// checkEvery enforces MinScheduleInterval on "@every D". It reads D from the
// text, because the parser turns a negative or sub-second D into 1s.
func checkEvery(spec string) error {
	d, err := time.ParseDuration(strings.TrimPrefix(spec, "@every "))
	if err != nil {
		return err // unreachable: the parser accepted it
	}
	if d < MinScheduleInterval {
		return fmt.Errorf("@every %s is more often than the minimum of %s between runs (each run is a whole crawl: politeness to the sites and load on the queue)", d, MinScheduleInterval)
	}
	if d%time.Second != 0 {
		return fmt.Errorf("@every %s: use a whole number of seconds", d)
	}
	return nil
}

// explainCron adds the name of the failing field to a parser error on a
// 5-field expression; the parser's own text does not say which it is.
func explainCron(spec string, err error) error {
	fields := strings.Fields(spec)
	if strings.HasPrefix(spec, "@") || len(fields) != len(cronFieldParsers) {
		if len(fields) == 6 {
			return fmt.Errorf("%w (a seconds field is not accepted: schedules have minute resolution)", err)
		}
		return err
	}
	for i, f := range cronFieldParsers {
		if _, ferr := safeParse(f.parser, fields[i]); ferr != nil {
			return fmt.Errorf("%s field: %w", f.name, ferr)
		}
	}
	return err
}

// safeParse calls p.Parse and turns a panic into an error. robfig/cron
// v3.0.1 slices out of range on some inputs (a "TZ=x" with no space after
// it); input must never crash the process.
func safeParse(p cron.Parser, s string) (sched cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("cannot parse %q", s)
		}
	}()
	return p.Parse(s)
}
