package api

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// Page sizes of the spider and run lists.
const (
	defaultListLimit = 100
	maxListLimit     = 1000
)

// Page sizes of the items route.
const (
	defaultItemsLimit = 50
	maxItemsLimit     = 1000
)

// Cursor kinds: a cursor of one list is refused by another.
const (
	spiderCursor = "s1:"
	runCursor    = "r1:"
)

// encodeCursor makes the opaque cursor of a keyset position in a list.
func encodeCursor(kind, pos string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + pos))
}

// decodeCursor returns the position of a cursor made by encodeCursor with
// kind; "" for no cursor. Anything else is EINVALID.
func decodeCursor(c, kind string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if pos, ok := strings.CutPrefix(string(b), kind); ok && pos != "" {
			return pos, nil
		}
	}
	return "", trawl.Errorf(trawl.EINVALID, "invalid cursor %q: use the next_cursor of a previous page, or none to start", c)
}

// intParam parses the positive integer parameter name, def when absent;
// above max or below 1 is EINVALID.
func intParam(q url.Values, name string, def, max int) (int, error) {
	v, ok := q[name]
	if !ok {
		return def, nil
	}
	if len(v) > 1 {
		return 0, trawl.Errorf(trawl.EINVALID, "parameter %s given %d times: give it once", name, len(v))
	}
	n, err := strconv.Atoi(v[0])
	if err != nil || n < 1 || n > max {
		return 0, trawl.Errorf(trawl.EINVALID, "invalid %s %q: want a whole number from 1 to %d", name, v[0], max)
	}
	return n, nil
}

// onlyParams refuses parameters other than names, and names given twice,
// so that a misspelt parameter is not silently ignored.
func onlyParams(q url.Values, names ...string) error {
	for k, v := range q {
		if !slices.Contains(names, k) {
			takes := "none"
			if len(names) > 0 {
				takes = strings.Join(names, ", ")
			}
			return trawl.Errorf(trawl.EINVALID, "unknown parameter %q: this route takes %s", k, takes)
		}
		if len(v) > 1 {
			return trawl.Errorf(trawl.EINVALID, "parameter %s given %d times: give it once", k, len(v))
		}
	}
	return nil
}
