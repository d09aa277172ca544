package store

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// Cursor is an opaque keyset position in a dataset's first-stored order:
// it encodes the stable ID of the last item of a page, so a cursor keeps its
// place while items are added or updated. Clients must treat it as an
// opaque string; only this package encodes and decodes it.
type Cursor string

// cursorPrefix versions the encoding, so that a later one can tell its own
// cursors from these.
const cursorPrefix = "i1:"

// NewCursor returns the cursor that follows the item with id.
func NewCursor(id int64) Cursor {
	return Cursor(base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(id, 10))))
}

// ItemID decodes c: 0 for the empty cursor (the start). Returns EINVALID
// for anything NewCursor did not make.
func (c Cursor) ItemID() (int64, error) {
	if c == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(string(c))
	if err == nil {
		if s, ok := strings.CutPrefix(string(b), cursorPrefix); ok {
			if id, err := strconv.ParseInt(s, 10, 64); err == nil && id > 0 && strconv.FormatInt(id, 10) == s {
				return id, nil
			}
		}
	}
	return 0, trawl.Errorf(trawl.EINVALID, "invalid cursor %q: use the next cursor of a previous page, or none to start", string(c))
}
