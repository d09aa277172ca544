package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// Run is a run as the API shows it: trawl.Run, plus when a queued run is
// to start and the dataset it writes.
type Run struct {
	trawl.Run
	RunAt   *time.Time `json:"run_at,omitempty"`
	Dataset string     `json:"dataset,omitempty"`
}

// RunQuery selects runs for Runs, newest first. Zero fields select all.
type RunQuery struct {
	Spider string
	Status trawl.RunStatus
	Page
}

// Runs returns one page of runs and the cursor of the next page ("" after
// the last).
func (c *Client) Runs(ctx context.Context, q RunQuery) ([]Run, string, error) {
	v := q.query()
	if q.Spider != "" {
		v.Set("spider", q.Spider)
	}
	if q.Status != "" {
		v.Set("status", string(q.Status))
	}
	var out struct {
		Runs       []Run  `json:"runs"`
		NextCursor string `json:"next_cursor"`
	}
	_, err := c.call(ctx, request{method: http.MethodGet, path: "/v1/runs", query: v}, &out)
	return out.Runs, out.NextCursor, err
}

// Run returns the run id; the error has code not_found when there is none.
func (c *Client) Run(ctx context.Context, id int64) (*Run, error) {
	var r Run
	if _, err := c.call(ctx, request{method: http.MethodGet, path: runPath(id)}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// StartRun queues a run of the stored spider, to start at runAt (zero:
// as soon as there is capacity). The error has code not_found for an
// unknown spider and conflict when a run of it is already queued or
// running.
func (c *Client) StartRun(ctx context.Context, spider string, runAt time.Time) (*Run, error) {
	var body []byte
	if !runAt.IsZero() {
		body, _ = json.Marshal(struct {
			RunAt time.Time `json:"run_at"`
		}{runAt})
	}
	req := request{method: http.MethodPost, path: "/v1/spiders/" + url.PathEscape(spider) + "/runs", body: body}
	if body != nil {
		req.contentType = "application/json"
	}
	var r Run
	if _, err := c.call(ctx, req, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// CancelRun cancels a queued run, or asks a running one to stop, and
// returns the run as it is after the request. The error has code
// not_found for an unknown run and conflict for a finished one.
func (c *Client) CancelRun(ctx context.Context, id int64) (*Run, error) {
	var r Run
	if _, err := c.call(ctx, request{method: http.MethodPost, path: runPath(id) + "/cancel"}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

func runPath(id int64) string { return "/v1/runs/" + strconv.FormatInt(id, 10) }
