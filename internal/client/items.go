package client

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// Dataset is a dataset on the server: a spider's items.
type Dataset struct {
	Name      string    `json:"name"`
	Columns   []string  `json:"columns"`
	Items     int64     `json:"items"`
	LastRun   int64     `json:"last_run"` // 0 when none
	UpdatedAt time.Time `json:"updated_at"`
}

// Datasets returns the server's datasets.
func (c *Client) Datasets(ctx context.Context) ([]Dataset, error) {
	var out struct {
		Datasets []Dataset `json:"datasets"`
	}
	_, err := c.call(ctx, request{method: http.MethodGet, path: "/v1/datasets"}, &out)
	return out.Datasets, err
}

// Filter keeps the items whose Field equals Value (for a list field: one
// of its elements does).
type Filter struct {
	Field, Value string
}

// ItemQuery selects items. The zero value selects every item.
type ItemQuery struct {
	Filters []Filter  // ANDed
	Fold    bool      // compare every filter ignoring case
	Fields  []string  // only these fields of each item; nil = all
	Since   time.Time // only items stored or updated after it; zero = all
	Page              // Limit 0 = the server's default page (Items) or everything (Export)
}

// reserved are the query parameters that are not field filters; a field
// of one of these names is filtered with where=NAME=VALUE.
var reserved = map[string]bool{"limit": true, "cursor": true, "fields": true, "since": true, "match": true, "where": true}

func (q ItemQuery) query() url.Values {
	v := q.Page.query()
	for _, f := range q.Filters {
		if reserved[f.Field] {
			v.Add("where", f.Field+"="+f.Value)
		} else {
			v.Add(f.Field, f.Value)
		}
	}
	if q.Fold {
		v.Set("match", "fold")
	}
	if len(q.Fields) > 0 {
		v.Set("fields", strings.Join(q.Fields, ","))
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.Format(time.RFC3339Nano))
	}
	return v
}

// Items returns one page of the dataset's items, each a JSON object with
// its fields in the dataset's order, and the cursor of the next page (""
// after the last). The error has code not_found for an unknown dataset and
// invalid for a filter on a field the dataset lacks.
func (c *Client) Items(ctx context.Context, dataset string, q ItemQuery) ([]json.RawMessage, string, error) {
	var out struct {
		Items      []json.RawMessage `json:"items"`
		NextCursor string            `json:"next_cursor"`
	}
	_, err := c.call(ctx, request{method: http.MethodGet, path: datasetPath(dataset) + "/items", query: q.query()}, &out)
	return out.Items, out.NextCursor, err
}

// Export formats of ExportItems.
const (
	CSV   = "csv"
	JSONL = "jsonl"
)

// ExportItems streams the dataset's items selected by q (all of them when
// q.Limit is 0) as CSV or JSONL, as the server writes them. The caller
// reads and closes the stream.
func (c *Client) ExportItems(ctx context.Context, dataset, format string, q ItemQuery) (io.ReadCloser, error) {
	var accept string
	switch format {
	case CSV:
		accept = "text/csv"
	case JSONL:
		accept = "application/jsonl, application/x-ndjson;q=0.9, */*;q=0.1"
	default:
		return nil, trawl.Errorf(trawl.EINVALID, "unknown export format %q: want csv or jsonl", format)
	}
	resp, err := c.send(ctx, request{method: http.MethodGet, path: datasetPath(dataset) + "/items." + format, query: q.query(), accept: accept})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// ValueCount is one distinct value of a field and how many items have it.
type ValueCount struct {
	Value any   `json:"value"`
	Count int64 `json:"count"`
}

// FieldValues returns the distinct values of the dataset's field with
// their counts, most frequent first, at most limit of them (0 = the
// server's default).
func (c *Client) FieldValues(ctx context.Context, dataset, field string, limit int) ([]ValueCount, error) {
	v := url.Values{}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	var out struct {
		Values []ValueCount `json:"values"`
	}
	_, err := c.call(ctx, request{method: http.MethodGet, path: datasetPath(dataset) + "/fields/" + url.PathEscape(field), query: v}, &out)
	return out.Values, err
}

func datasetPath(name string) string { return "/v1/datasets/" + url.PathEscape(name) }
