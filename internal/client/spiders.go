package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Spider is a spider stored on the server.
type Spider struct {
	Name      string    `json:"name"`
	Format    string    `json:"format"` // yaml or json
	Source    string    `json:"source"` // the spider file as it was put
	Hash      string    `json:"hash"`   // the spec hash, as runs record it
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Schedule  string    `json:"schedule,omitempty"`
	// NextRunAt is when the schedule fires next; nil without a schedule.
	NextRunAt *time.Time `json:"next_run_at,omitempty"`
}

// Page selects one page of a list: at most Limit entries (0 = the server's
// default) after Cursor ("" = from the start).
type Page struct {
	Limit  int
	Cursor string
}

func (p Page) query() url.Values {
	q := url.Values{}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	return q
}

// Spiders returns one page of the stored spiders by name, and the cursor
// of the next page ("" after the last).
func (c *Client) Spiders(ctx context.Context, p Page) ([]Spider, string, error) {
	var out struct {
		Spiders    []Spider `json:"spiders"`
		NextCursor string   `json:"next_cursor"`
	}
	_, err := c.call(ctx, request{method: http.MethodGet, path: "/v1/spiders", query: p.query()}, &out)
	return out.Spiders, out.NextCursor, err
}

// AllSpiders returns every stored spider, following the cursors.
func (c *Client) AllSpiders(ctx context.Context) ([]Spider, error) {
	var all []Spider
	err := c.pages(ctx, func(ctx context.Context, cursor string) (string, error) {
		page, next, err := c.Spiders(ctx, Page{Limit: 1000, Cursor: cursor})
		all = append(all, page...)
		return next, err
	})
	return all, err
}

// Spider returns the stored spider name; the error has code not_found
// when there is none.
func (c *Client) Spider(ctx context.Context, name string) (*Spider, error) {
	var s Spider
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/v1/spiders/" + url.PathEscape(name)}, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// PutSpider stores source as the spider name; format is yaml or json.
// created reports whether the spider is new. An invalid spider is an
// *Error with code invalid_spider listing its Problems.
func (c *Client) PutSpider(ctx context.Context, name, format string, source []byte) (s *Spider, created bool, err error) {
	ct := "application/yaml"
	if format == "json" {
		ct = "application/json"
	}
	if source == nil {
		source = []byte{}
	}
	s = new(Spider)
	status, err := c.call(ctx, request{method: http.MethodPut, path: "/v1/spiders/" + url.PathEscape(name), body: source, contentType: ct}, s)
	if err != nil {
		return nil, false, err
	}
	return s, status == http.StatusCreated, nil
}

// DeleteSpider removes the stored spider name (its runs and dataset stay);
// the error has code not_found when there is none.
func (c *Client) DeleteSpider(ctx context.Context, name string) error {
	_, err := c.call(ctx, request{method: http.MethodDelete, path: "/v1/spiders/" + url.PathEscape(name)}, nil)
	return err
}

// maxPages bounds a walk over cursors, against a server whose cursors
// never end.
const maxPages = 100000

var errRepeatedCursor = errors.New("the server's next_cursor does not advance")

// pages calls page with each cursor it returns, from "", until one returns
// "" or an error. A cursor returned twice in a row is an error rather than
// an endless loop.
func (c *Client) pages(ctx context.Context, page func(ctx context.Context, cursor string) (string, error)) error {
	cursor := ""
	for range maxPages {
		next, err := page(ctx, cursor)
		if err != nil || next == "" {
			return err
		}
		if next == cursor {
			return errRepeatedCursor
		}
		cursor = next
	}
	return errRepeatedCursor
}
