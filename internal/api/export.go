package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"time"

	"github.com/trawl-dev/trawl/internal/export"
)

func (s *server) exportCSV(w http.ResponseWriter, r *http.Request) error {
	return s.exportItems(w, r, export.CSV, "text/csv; charset=utf-8")
}

func (s *server) exportJSONL(w http.ResponseWriter, r *http.Request) error {
	return s.exportItems(w, r, export.JSONL, "application/x-ndjson")
}

// exportItems streams every item the query selects (no page size unless
// limit is given) through the export package's writer of format f, so the
// CSV follows the same rules as `trawl export`. Errors found before the
// first item (an unknown dataset or field, a bad cursor) are answered as
// problems; an error after the response started cuts the connection, so
// that the client sees an incomplete download rather than a short file.
func (s *server) exportItems(w http.ResponseWriter, r *http.Request, f export.Format, contentType string) error {
	q, err := itemQuery(r, 0)
	if err != nil {
		return err
	}
	ds, err := s.st.Dataset(r.Context(), q.Dataset)
	if err != nil {
		return err
	}
	columns := ds.Columns
	if q.Fields != nil {
		columns = q.Fields
	}
	next, stop := iter.Pull2(s.st.Items(r.Context(), q))
	defer stop()
	first, err, more := next()
	if more && err != nil {
		return err
	}
	items := func(yield func(json.RawMessage, error) bool) {
		if !more || !yield(first, nil) {
			return
		}
		for {
			it, err, ok := next()
			if !ok || !yield(it, err) {
				return
			}
		}
	}

	rc := http.NewResponseController(w)
	// A large export outlives any write timeout of the server.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return fmt.Errorf("export %s: %w", q.Dataset, err)
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", q.Dataset+"."+string(f)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	cw := &clientWriter{w: w}
	if _, err := export.Write(cw, f, items, export.Options{Columns: columns}); err != nil {
		if cw.err == nil && r.Context().Err() == nil {
			s.log.Error("export failed", "path", r.URL.Path, "error", err)
		}
		panic(http.ErrAbortHandler)
	}
	return nil
}

// clientWriter remembers a failed write to the client, to tell a client
// that went away from a failure of the store.
type clientWriter struct {
	w   io.Writer
	err error
}

func (c *clientWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}
