package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/trawl-dev/trawl/internal/crawl"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// summary is the one-line account of a run. begin is the run's statistics
// when this process took it up: after a resume, the rate counts this
// process's pages over this process's time.
func summary(begin, s trawl.RunStats, d time.Duration) string {
	var b strings.Builder
	now := s.Pages - begin.Pages
	fmt.Fprintf(&b, "%d pages", s.Pages)
	if begin.Pages > 0 {
		fmt.Fprintf(&b, " (%d in this process)", now)
	}
	fmt.Fprintf(&b, ", %d items", s.Items)
	if s.Invalid > 0 {
		fmt.Fprintf(&b, " (%d invalid dropped)", s.Invalid)
	}
	fmt.Fprintf(&b, ", %d errors", s.ErrorCount())
	if len(s.Errors) > 0 {
		b.WriteString(" (")
		for i, c := range sortedKeys(s.Errors) {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s %d", c, s.Errors[c])
		}
		b.WriteString(")")
	}
	fmt.Fprintf(&b, ", %s in %s", formatBytes(s.Bytes), d.Round(time.Millisecond))
	if secs := d.Seconds(); secs > 0 {
		fmt.Fprintf(&b, " (%.1f pages/s)", float64(now)/secs)
	}
	return b.String()
}

// notes are the summary's remarks on what the numbers alone hide: item
// rules that never matched or met pages rendered by JavaScript, links
// dropped by the per-page limit, and hosts that throttled trawl or went
// down.
func notes(sp *spider.Spider, s trawl.RunStats, hosts []crawl.HostReport) []string {
	var out []string
	for i, r := range s.Rules {
		if i >= len(sp.Items) {
			break
		}
		name := ruleName(i, sp.Items[i])
		switch {
		case r.Pages > 0 && r.Matched == 0:
			n := fmt.Sprintf("%s matched nothing on the %d page%s it applied to", name, r.Pages, plural(int(r.Pages)))
			if r.Scripted > 0 {
				n += fmt.Sprintf("; %d of them look rendered by JavaScript, which trawl does not run: the data likely needs JavaScript rendering (look for the API the page calls)", r.Scripted)
			} else {
				n += ": check its selector against a page"
			}
			out = append(out, n)
		case r.Scripted > 0:
			out = append(out, fmt.Sprintf("%s matched nothing on %d page%s that look rendered by JavaScript, which trawl does not run: those pages likely need JavaScript rendering",
				name, r.Scripted, plural(int(r.Scripted))))
		}
	}
	if s.LinksCapped > 0 {
		out = append(out, fmt.Sprintf("%d link%s not followed: pages had more links than limits.max_links allows, and the links beyond it were dropped",
			s.LinksCapped, plural(int(s.LinksCapped))))
	}
	for _, h := range hosts {
		if h.Throttled > 0 {
			out = append(out, fmt.Sprintf("host %s was throttled (%d time%s); it ended at %s, %d at a time",
				h.Host, h.Throttled, plural(h.Throttled), pace(h.Delay), h.Concurrency))
		}
		if h.Down {
			out = append(out, fmt.Sprintf("host %s stopped answering: its remaining pages failed as host_down", h.Host))
		}
	}
	return out
}

// ruleName names an item rule as the spider file does: its index from 1
// and what selects its items.
func ruleName(i int, r spider.ItemRule) string {
	sel := "the whole page"
	switch {
	case r.JSON != nil:
		sel = "json " + r.JSON.Source
		if r.JSON.Source == "" {
			sel = "the whole JSON response"
		}
	case r.Root.XPath != nil:
		sel = "xpath " + r.Root.Source
	case !r.Root.IsZero():
		sel = "css " + r.Root.Source
	case len(r.Fields) > 0 && r.Fields[0].Selector.Source != "":
		sel = fmt.Sprintf("field %s at %s", r.Fields[0].Name, r.Fields[0].Selector.Source)
	}
	return fmt.Sprintf("item rule %d (%s)", i+1, sel)
}

// pace describes a host's delay between requests.
func pace(d time.Duration) string {
	if d <= 0 {
		return "no delay between requests"
	}
	return fmt.Sprintf("1 request per %.1fs", d.Seconds())
}

// printFailed lists failed, the first failed pages of a run (with s, its
// statistics), with what went wrong.
func printFailed(w io.Writer, failed []store.FailedPage, s trawl.RunStats) {
	total := s.ErrorCount()
	if total == 0 || len(failed) == 0 {
		return // the counts are in the summary line already
	}
	fmt.Fprintln(w, "failed pages:")
	for _, p := range failed {
		detail := p.Error
		if p.Status >= 400 {
			detail = fmt.Sprintf("HTTP %d", p.Status)
		}
		if len(detail) > 100 {
			detail = detail[:100] + "…"
		}
		if detail != "" {
			detail = " (" + detail + ")"
		}
		fmt.Fprintf(w, "  %-12s %s%s\n", p.ErrorClass, p.URL, detail)
	}
	if rest := total - int64(len(failed)); rest > 0 {
		fmt.Fprintf(w, "  ... and %d more\n", rest)
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
	}
}
