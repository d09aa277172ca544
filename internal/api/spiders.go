package api

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"
	"gopkg.in/yaml.v3"

	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
)

// spiderJSON is a stored spider as the API shows it.
type spiderJSON struct {
	Name      string     `json:"name"`
	Format    string     `json:"format"`
	Source    string     `json:"source"`
	Hash      string     `json:"hash"`
	Version   int64      `json:"version"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	Schedule  string     `json:"schedule,omitempty"`
	NextRunAt *time.Time `json:"next_run_at,omitempty"`
}

// spiderOf shows st, with its schedule and next fire time read from its
// source (a stored spider was valid when it was put; if a later trawl no
// longer accepts it, it is shown without a schedule).
func (s *server) spiderOf(st *store.StoredSpider) spiderJSON {
	out := spiderJSON{Name: st.Name, Format: st.Format, Source: string(st.Source), Hash: st.Hash,
		Version: st.Version, CreatedAt: st.CreatedAt.UTC(), UpdatedAt: st.UpdatedAt.UTC()}
	if sp, err := spider.Parse(st.Name, st.Source); err == nil && sp.Cron != nil {
		out.Schedule = sp.Schedule
		next := sp.Cron.Next(s.now()).UTC()
		out.NextRunAt = &next
	}
	return out
}

func (s *server) getSpider(w http.ResponseWriter, r *http.Request) error {
	st, err := s.st.Spider(r.Context(), chi.URLParam(r, "name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.spiderOf(st))
}

func (s *server) listSpiders(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := onlyParams(q, "limit", "cursor"); err != nil {
		return err
	}
	limit, err := intParam(q, "limit", defaultListLimit, maxListLimit)
	if err != nil {
		return err
	}
	after, err := decodeCursor(q.Get("cursor"), spiderCursor)
	if err != nil {
		return err
	}
	list, err := s.st.Spiders(r.Context(), store.SpiderQuery{After: after, Limit: limit + 1})
	if err != nil {
		return err
	}
	resp := struct {
		Spiders    []spiderJSON `json:"spiders"`
		NextCursor string       `json:"next_cursor,omitempty"`
	}{Spiders: []spiderJSON{}}
	if len(list) > limit {
		list = list[:limit]
		resp.NextCursor = encodeCursor(spiderCursor, list[limit-1].Name)
	}
	for i := range list {
		resp.Spiders = append(resp.Spiders, s.spiderOf(&list[i]))
	}
	return writeJSON(w, http.StatusOK, resp)
}

// putSpider stores the spider in the body under the name in the URL, after
// validating it exactly as `trawl check` does (spider.Parse), then brings
// its schedule up to date.
func (s *server) putSpider(w http.ResponseWriter, r *http.Request) error {
	name := chi.URLParam(r, "name")
	body, err := readBody(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	mt, err := mediaType(r)
	if err != nil {
		return err
	}
	// JSON is YAML, so the parser takes either; the format recorded is
	// JSON only when the body is JSON, whatever the Content-Type claims.
	format := store.FormatYAML
	if mt == "application/json" && json.Valid(body) {
		format = store.FormatJSON
	}
	sp, err := spider.Parse(name, body)
	var ve *spider.ValidationError
	switch {
	case errors.As(err, &ve):
		return &spiderError{problems: withNameProblem(ve.Problems, body, name)}
	case err != nil:
		return err
	}
	if sp.Name != name {
		problems := withNameProblem(nil, body, name)
		if len(problems) == 0 { // a name the YAML scan above cannot locate
			problems = []spider.Problem{{Path: "name", Line: 1, Column: 1,
				Message: fmt.Sprintf("the spider is named %q but was put as %q: the name in the URL must match", sp.Name, name)}}
		}
		return &spiderError{problems: problems}
	}
	st, created, err := s.st.PutSpider(r.Context(), store.PutSpiderParams{Name: name, Source: body, Format: format, Hash: sp.Hash})
	if err != nil {
		return err
	}
	if err := s.queue.SyncSchedule(r.Context(), name); err != nil {
		return fmt.Errorf("spider %s stored, but its schedule was not updated: %w", name, err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/v1/spiders/"+name)
	}
	return writeJSON(w, status, s.spiderOf(st))
}

// withNameProblem adds to problems a problem at the body's top-level name
// when it differs from the name in the URL, which wins.
func withNameProblem(problems []spider.Problem, body []byte, name string) []spider.Problem {
	var doc yaml.Node
	if yaml.Unmarshal(body, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return problems
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Value != "name" || v.Kind != yaml.ScalarNode || v.Value == name {
			continue
		}
		problems = append(problems, spider.Problem{Path: "name", Line: v.Line, Column: v.Column,
			Message: fmt.Sprintf("the spider is named %q but was put as %q: the name in the URL must match", v.Value, name)})
		slices.SortStableFunc(problems, func(a, b spider.Problem) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
		})
		break
	}
	return problems
}

// deleteSpider removes the stored spider and its schedule; its runs and
// dataset stay.
func (s *server) deleteSpider(w http.ResponseWriter, r *http.Request) error {
	name := chi.URLParam(r, "name")
	if err := s.st.DeleteSpider(r.Context(), name); err != nil {
		return err
	}
	if err := s.queue.SyncSchedule(r.Context(), name); err != nil {
		return fmt.Errorf("spider %s deleted, but its schedule was not removed: %w", name, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
