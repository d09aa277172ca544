package spider

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
)

// Parse decodes, validates and compiles a spider written in YAML or JSON.
// filename is only used in error messages. On any problem it returns a
// *ValidationError listing all of them, sorted by line and column.
func Parse(filename string, data []byte) (*Spider, error) {
	var ps problems
	root := load(data, &ps)
	if root == nil {
		return nil, ps.err(filename)
	}
	s := decode(root, &ps)
	sp := compile(s, &ps)
	if err := ps.err(filename); err != nil {
		return nil, err
	}
	hash, err := specHash(s)
	if err != nil {
		return nil, fmt.Errorf("hash spider %s: %w", filename, err)
	}
	sp.Hash = hash
	sp.Source = bytes.Clone(data)
	return sp, nil
}

// ParseFile reads the spider file at path and parses it with Parse.
func ParseFile(path string) (*Spider, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read spider: %w", err)
	}
	return Parse(path, data)
}

// specHash is the sha256 of the canonical JSON encoding of the decoded spec:
// keys in a fixed order, values as decoded, no comments or formatting.
func specHash(s *spec) (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
