// Package trawl is the domain vocabulary shared by every other package:
// runs, their statistics, items and the error codes users see.
package trawl

import (
	"bytes"
	"encoding/json"
	"time"
)

// Version is the version of this build of trawl.
const Version = "0.1.0-dev"

// ProjectURL is the project's home, used in the default user agent.
const ProjectURL = "https://github.com/trawl-dev/trawl"

// DefaultUserAgent is the User-Agent header sent when a spider sets none.
const DefaultUserAgent = "trawl/" + Version + " (+" + ProjectURL + ")"

// RunStatus is the life-cycle state of a run.
type RunStatus string

// Run statuses. A run is created queued (by the service) or running (by
// `trawl run`), and ends in exactly one of the final statuses.
const (
	RunQueued    RunStatus = "queued"
	RunRunning   RunStatus = "running"
	RunSucceeded RunStatus = "succeeded"
	RunFailed    RunStatus = "failed"
	RunCanceled  RunStatus = "canceled"
)

// Final reports whether s is a terminal status.
func (s RunStatus) Final() bool {
	return s == RunSucceeded || s == RunFailed || s == RunCanceled
}

// Run is one execution of a spider.
type Run struct {
	ID         int64      `json:"id"`
	Spider     string     `json:"spider"`
	SpecHash   string     `json:"spec_hash"`
	Status     RunStatus  `json:"status"`
	Error      string     `json:"error,omitempty"`
	Stats      RunStats   `json:"stats"`
	CreatedAt  time.Time  `json:"created_at"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// RunAt is when a run queued for later is due; nil when it was queued
	// to start as soon as possible or started at once.
	RunAt *time.Time `json:"run_at,omitempty"`
	// Dataset is the dataset the run stores its items in.
	Dataset string `json:"dataset,omitempty"`
	// CancelRequested is set when a user asked a running run to stop; the
	// process crawling it ends it as canceled.
	CancelRequested bool `json:"cancel_requested,omitempty"`
}

// RunStats are the counters of a run. They survive a resume: a resumed run
// continues from the committed values.
type RunStats struct {
	Pages   int64            `json:"pages"`   // pages fetched and committed (including failed ones)
	Items   int64            `json:"items"`   // items stored (inserted or updated) by this run
	Invalid int64            `json:"invalid"` // items dropped because a required field was missing
	Errors  map[string]int64 `json:"errors"`  // failed pages by error class
	Bytes   int64            `json:"bytes"`   // decoded body bytes fetched
	Queued  int64            `json:"queued"`  // URLs admitted to the frontier
	// LinksCapped counts links dropped because a page had more than the
	// per-page link limit.
	LinksCapped int64 `json:"links_capped,omitempty"`
	// Rules has one entry per item rule of the spider, in declared order:
	// how often each rule applied and matched, so that a rule that never
	// matched can be reported.
	Rules []RuleStats `json:"rules,omitempty"`
}

// RuleStats count what one item rule did over a run's pages.
type RuleStats struct {
	Pages    int64 `json:"pages"`              // pages the rule applied to (content type and urls: matched)
	Matched  int64 `json:"matched"`            // of those, pages where it matched at least one element
	Scripted int64 `json:"scripted,omitempty"` // pages where it matched nothing and the page looks rendered by JavaScript
}

// AddRules adds per-rule counts of one page (or batch) to s, growing
// s.Rules as needed.
func (s *RunStats) AddRules(rules []RuleStats) {
	if len(s.Rules) < len(rules) {
		s.Rules = append(s.Rules, make([]RuleStats, len(rules)-len(s.Rules))...)
	}
	for i, r := range rules {
		s.Rules[i].Pages += r.Pages
		s.Rules[i].Matched += r.Matched
		s.Rules[i].Scripted += r.Scripted
	}
}

// ErrorCount is the total number of failed pages.
func (s RunStats) ErrorCount() int64 {
	var n int64
	for _, c := range s.Errors {
		n += c
	}
	return n
}

// Field is one named value of an item. Value is nil (missing), a string, a
// []string, or any value decoded from JSON (float64, bool, map, []any, ...).
type Field struct {
	Name  string
	Value any
}

// Item is one extracted record. Its fields keep the spider's declared order;
// the page URL is carried separately and written as the `_url` field.
type Item struct {
	Key    string  // identity inside the dataset, see spider ItemRule.Key
	URL    string  // the page the item came from
	Fields []Field // in declared order
}

// MarshalJSON encodes the item as one JSON object: the fields in declared
// order, then `_url`.
func (it Item) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for _, f := range it.Fields {
		if err := writeMember(&b, f.Name, f.Value); err != nil {
			return nil, err
		}
		b.WriteByte(',')
	}
	if err := writeMember(&b, "_url", it.URL); err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeMember(b *bytes.Buffer, name string, v any) error {
	k, err := marshalNoEscape(name)
	if err != nil {
		return err
	}
	val, err := marshalNoEscape(v)
	if err != nil {
		return err
	}
	b.Write(k)
	b.WriteByte(':')
	b.Write(val)
	return nil
}

// marshalNoEscape encodes v without escaping <, > and &, which would make
// stored HTML fragments unreadable.
func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
