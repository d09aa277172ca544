package spider_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/spider"
)

func mustCron(t *testing.T, s string) *spider.Cron {
	t.Helper()
	c, err := spider.ParseCron(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSchedule parses each schedule inside a spider, so that it also checks
// that a problem points at the value (line 4, column 11) and that a valid
// schedule is compiled onto Spider.Cron.
func TestSchedule(t *testing.T) {
	t.Parallel()
	const hint = `like "30 2 * * 1-5"`
	tests := []struct {
		schedule string
		want     string // Spider.Schedule when valid
		wantErr  string // "" means valid
	}{
		// Every descriptor.
		{schedule: "@yearly"},
		{schedule: "@annually"},
		{schedule: "@monthly"},
		{schedule: "@weekly"},
		{schedule: "@daily"},
		{schedule: "@midnight"},
		{schedule: "@hourly"},
		{schedule: "@every 1m"},
		{schedule: "@every 90s"},
		{schedule: "@every 1h30m"},
		// 5-field expressions: lists, ranges, steps, names in any case.
		{schedule: "*/5 * * * *"},
		{schedule: "0 9-17/2 1,15 jan-jun MON-FRI"},
		{schedule: "30 2 * * Sun"},
		{schedule: "0 0 1 JAN,jul *"},
		{schedule: "59 23 31 12 6"},
		{schedule: "0 0 ? * ?"},
		{schedule: "5/10 * * * *"},
		{schedule: "0 0 29 2 *"},
		// Time zones, and surrounding spaces trimmed.
		{schedule: "CRON_TZ=Europe/Paris 0 9 * * 1-5"},
		{schedule: "TZ=America/New_York @daily"},
		{schedule: "CRON_TZ=UTC @every 2h"},
		{schedule: "  @hourly  ", want: "@hourly"},

		{schedule: "@every 10s", wantErr: "@every 10s is more often than the minimum of 1m0s between runs"},
		{schedule: "@every 59s", wantErr: "minimum of 1m0s"},
		{schedule: "@every 0s", wantErr: "minimum of 1m0s"},
		{schedule: "@every -1h", wantErr: "minimum of 1m0s"},
		{schedule: "@every 90.5s", wantErr: "use a whole number of seconds"},
		{schedule: "@every soon", wantErr: `failed to parse duration @every soon`},
		{schedule: "@reboot", wantErr: "unrecognized descriptor: @reboot"},
		{schedule: "@DAILY", wantErr: "unrecognized descriptor: @DAILY"},
		{schedule: "", wantErr: "empty spec string"},
		{schedule: "garbage", wantErr: "expected exactly 5 fields, found 1"},
		{schedule: "* * * *", wantErr: "expected exactly 5 fields, found 4"},
		{schedule: "0 */5 * * * *", wantErr: "found 6: [0 */5 * * * *] (a seconds field is not accepted"},
		{schedule: "60 * * * *", wantErr: "minute field: end of range (60) above maximum (59): 60"},
		{schedule: "0 25 * * *", wantErr: "hour field: end of range (25) above maximum (23): 25"},
		{schedule: "* * 0 * *", wantErr: "day-of-month field: beginning of range (0) below minimum (1): 0"},
		{schedule: "* * * 13 *", wantErr: "month field: end of range (13) above maximum (12): 13"},
		{schedule: "* * * * 7", wantErr: "day-of-week field: end of range (7) above maximum (6): 7"},
		{schedule: "* * * FOO *", wantErr: "month field: failed to parse int from FOO"},
		{schedule: "* * * * mon-fry", wantErr: "day-of-week field: failed to parse int from fry"},
		{schedule: "*/0 * * * *", wantErr: "minute field: step of range should be a positive number: */0"},
		{schedule: "5-1 * * * *", wantErr: "minute field: beginning of range (5) beyond end of range (1): 5-1"},
		{schedule: "1-2-3 * * * *", wantErr: "minute field: too many hyphens: 1-2-3"},
		{schedule: "0 0 30 2 *", wantErr: "it never fires (no such date)"},
		{schedule: "CRON_TZ=Mars/Olympus 0 9 * * *", wantErr: "provided bad location Mars/Olympus"},
		{schedule: "CRON_TZ=Local 0 9 * * *", wantErr: `time zone "Local": name an IANA zone`},
		{schedule: "CRON_TZ= 0 9 * * *", wantErr: `time zone "": name an IANA zone`},
		{schedule: "TZ=UTC", wantErr: "a time zone prefix needs a schedule after it"},
		{schedule: "0 TZ=x * * *", wantErr: `hour field: cannot parse "TZ=x"`},
	}
	for _, tt := range tests {
		t.Run(tt.schedule, func(t *testing.T) {
			t.Parallel()
			src := "name: s\nstart_urls: [http://x.example/]\nitems: [{fields: {t: title}}]\nschedule: '" + tt.schedule + "'\n"
			sp, err := spider.Parse("s.yaml", []byte(src))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				want := tt.want
				if want == "" {
					want = tt.schedule
				}
				if got := sp.Schedule; got != want {
					t.Errorf("Schedule = %q, want %q", got, want)
				}
				if sp.Cron == nil {
					t.Fatal("Cron = nil, want the compiled schedule")
				}
				if got := sp.Cron.String(); got != want {
					t.Errorf("Cron.String() = %q, want %q", got, want)
				}
				return
			}
			var ve *spider.ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) != 1 {
				t.Fatalf("Parse error = %v, want one problem", err)
			}
			p := ve.Problems[0]
			if p.Path != "schedule" || p.Line != 4 || p.Column != 11 {
				t.Errorf("problem at %s %d:%d, want schedule 4:11", p.Path, p.Line, p.Column)
			}
			for _, want := range []string{fmt.Sprintf("invalid schedule %q: ", strings.TrimSpace(tt.schedule)), tt.wantErr, hint} {
				if !strings.Contains(p.Message, want) {
					t.Errorf("Message = %q, want it to contain %q", p.Message, want)
				}
			}
		})
	}
}

func TestScheduleUnset(t *testing.T) {
	t.Parallel()
	sp := mustParse(t, "name: s\nstart_urls: [http://x.example/]\nitems: [{fields: {t: title}}]\n")
	if sp.Schedule != "" || sp.Cron != nil {
		t.Errorf("Schedule, Cron = %q, %v; want \"\", nil", sp.Schedule, sp.Cron)
	}
}

func TestCronNext(t *testing.T) {
	t.Parallel()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		t.Helper()
		tm, err := time.Parse(time.DateTime, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		name     string
		schedule string
		from     time.Time
		want     time.Time
	}{
		{"weekday skips the weekend", "0 9 * * MON-FRI", utc("2024-06-01 10:00:00"), utc("2024-06-03 09:00:00")},
		{"step", "*/15 * * * *", utc("2024-06-01 10:07:30"), utc("2024-06-01 10:15:00")},
		{"strictly after", "@hourly", utc("2024-06-01 10:00:00"), utc("2024-06-01 11:00:00")},
		{"yearly", "@yearly", utc("2024-12-31 23:59:59"), utc("2025-01-01 00:00:00")},
		{"leap day", "0 0 29 2 *", utc("2024-03-01 00:00:00"), utc("2028-02-29 00:00:00")},
		{"every adds to now", "@every 90m", utc("2024-06-01 10:00:00").Add(500 * time.Millisecond), utc("2024-06-01 11:30:00")},
		// No prefix means UTC, whatever zone the caller's clock is in.
		{"UTC by default", "@daily", time.Date(2024, 6, 1, 23, 30, 0, 0, paris), utc("2024-06-02 00:00:00")},
		{"CRON_TZ", "CRON_TZ=Europe/Paris 0 9 * * *", utc("2024-06-01 08:00:00"), time.Date(2024, 6, 2, 9, 0, 0, 0, paris)},
		{"CRON_TZ across DST", "CRON_TZ=Europe/Paris 0 9 * * *", utc("2024-03-30 12:00:00"), utc("2024-03-31 07:00:00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := mustCron(t, tt.schedule).Next(tt.from)
			if !got.Equal(tt.want) {
				t.Errorf("Next(%v) = %v, want %v", tt.from, got, tt.want)
			}
		})
	}
}

// TestCronConcurrent checks that one compiled schedule is safe to share, as
// the immutable Spider promises (run with -race).
func TestCronConcurrent(t *testing.T) {
	t.Parallel()
	c := mustCron(t, "CRON_TZ=Europe/Paris */5 9-17 * * mon-fri")
	from := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	want := c.Next(from)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if got := c.Next(from); !got.Equal(want) {
				t.Errorf("Next = %v, want %v", got, want)
			}
		})
	}
	wg.Wait()
}

func ExampleParseCron() {
	c, err := spider.ParseCron("CRON_TZ=Europe/Paris 30 2 * * mon-fri")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Next(time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)).UTC())

	_, err = spider.ParseCron("@every 10s")
	fmt.Println(err != nil)
	// Output:
	// 2024-06-03 00:30:00 +0000 UTC
	// true
}
