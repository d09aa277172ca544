package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/trawl-dev/trawl/internal/dryrun"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// DryRunFunc fetches one page with sp ("" = its first start URL) and
// reports what a run would do with it, storing nothing: dryrun.Try with
// the service's fetch client, private-network guard included.
type DryRunFunc func(ctx context.Context, sp *spider.Spider, url string) (*dryrun.Result, error)

// tryRequest is the body of POST /v1/try.
type tryRequest struct {
	// Spider is the spider file's text, YAML or JSON.
	Spider string `json:"spider"`
	// URL is the page to try; "" = the spider's first start URL.
	URL string `json:"url"`
	// ValidateOnly checks the spider and fetches nothing: an editor that
	// validates as the user types must not send a request to the site
	// on every keystroke.
	ValidateOnly bool `json:"validate_only"`
}

// try is the dry run: the spider is validated as PUT does it, then one page
// is fetched and extracted.
func (s *server) try(w http.ResponseWriter, r *http.Request) error {
	var req tryRequest
	has, err := decodeJSONBody(w, r, s.cfg.MaxBodyBytes, &req)
	if err != nil {
		return err
	}
	if !has || req.Spider == "" {
		return trawl.Errorf(trawl.EINVALID, `the body must be {"spider": "<the spider file>", "url": "<optional page>"}`)
	}
	sp, err := spider.Parse("", []byte(req.Spider))
	var ve *spider.ValidationError
	switch {
	case errors.As(err, &ve):
		return &spiderError{problems: ve.Problems}
	case err != nil:
		return err
	}
	if req.ValidateOnly {
		return writeJSON(w, http.StatusOK, &dryrun.Result{
			Items: []trawl.Item{}, Links: []dryrun.Link{}, Rules: []dryrun.Rule{}, Problems: []spider.Problem{}})
	}
	if s.cfg.DryRunFunc == nil {
		return &statusError{status: http.StatusServiceUnavailable, code: codeUnavailable,
			msg: "dry runs are not enabled on this server"}
	}
	res, err := s.cfg.DryRunFunc(r.Context(), sp, req.URL)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}
