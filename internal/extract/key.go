package extract

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// ItemKey returns the identity of an item inside its dataset: the first 16
// bytes, as 32 lowercase hex digits, of the SHA-256 of the JSON array of the
// values of the fields named by key, in the order of key. The name "_url"
// stands for url, the page the item came from; a name that is not a field
// contributes null. An empty key means every field in declared order
// (without _url).
//
// The key is stable across runs and processes: it depends only on the
// values, so a re-run updates an item instead of duplicating it.
func ItemKey(fields []trawl.Field, url string, key []string) string {
	vals := make([]any, 0, max(len(key), len(fields)))
	if len(key) == 0 {
		for _, f := range fields {
			vals = append(vals, f.Value)
		}
	} else {
		for _, name := range key {
			vals = append(vals, keyValue(fields, url, name))
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(vals); err != nil {
		// Extracted values always encode; a value built by hand that does
		// not (a channel, NaN) still gets a deterministic key.
		b.Reset()
		fmt.Fprintf(&b, "%#v", vals)
	}
	sum := sha256.Sum256(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	return hex.EncodeToString(sum[:16])
}

func keyValue(fields []trawl.Field, url, name string) any {
	if name == "_url" {
		return url
	}
	for _, f := range fields {
		if f.Name == name {
			return f.Value
		}
	}
	return nil
}
