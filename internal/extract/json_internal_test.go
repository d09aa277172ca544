package extract

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWalk(t *testing.T) {
	t.Parallel()
	doc, err := decodeJSON([]byte(`{
		"a": {"b": {"c": "deep"}},
		"n": 7, "f": 1.5, "null": null, "e": [],
		"list": [10, 20, 30],
		"tags": [{"name": "a"}, {"name": "b"}, {"id": 3}, "scalar", {"name": null}],
		"groups": [{"members": [{"n": 1}, {"n": 2}]}, {"members": [{"n": 3}]}, {"members": {"n": 4}}],
		"matrix": [[1, 2], [3]],
		"0": "zero key"
	}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want any
	}{
		{"", doc},
		{"a.b.c", "deep"},
		{"a.b", map[string]any{"c": "deep"}},
		{"a.x", nil},
		{"a.b.c.d", nil},
		{"n", num("7")},
		{"f", num("1.5")},
		{"null", nil},
		{"missing", nil},
		{"e", []any{}},
		{"list.0", num("10")},
		{"list.2", num("30")},
		{"list.3", nil},
		{"list.99999999999999999999", nil},
		{"0", "zero key"},
		{"tags.name", []any{"a", "b"}},
		{"tags.1.name", "b"},
		{"tags.id", []any{num("3")}},
		{"tags.nope", []any{}},
		{"groups.members", []any{
			map[string]any{"n": num("1")}, map[string]any{"n": num("2")},
			map[string]any{"n": num("3")}, map[string]any{"n": num("4")},
		}},
		{"groups.members.n", []any{num("1"), num("2"), num("3"), num("4")}},
		{"matrix.0", []any{num("1"), num("2")}},
		{"matrix.x", []any{}},
		{"n.x", nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			var segs []string
			if tt.path != "" {
				segs = strings.Split(tt.path, ".")
			}
			if diff := cmp.Diff(tt.want, walk(doc, segs)); diff != "" {
				t.Errorf("walk(%q) mismatch (-want +got):\n%s", tt.path, diff)
			}
		})
	}
}

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		want    any
		wantErr string
	}{
		{"int", `1`, num("1"), ""},
		{"negative int", `-9223372036854775808`, num("-9223372036854775808"), ""},
		{"beyond int64", `9223372036854775808`, num("9223372036854775808"), ""},
		{"beyond 2^53 and float64 precision", `12345678901234567890123`, num("12345678901234567890123"), ""},
		{"negative big", `-12345678901234567890123`, num("-12345678901234567890123"), ""},
		{"fraction", `2.5`, num("2.5"), ""},
		{"integral float literal as written", `2.0`, num("2.0"), ""},
		{"exponent", `1e3`, num("1e3"), ""},
		{"negative exponent", `-1.5E-7`, num("-1.5E-7"), ""},
		{"beyond float64", `1e400`, num("1e400"), ""},
		{"nested", `{"a":[1,{"b":2.5}]}`, map[string]any{"a": []any{num("1"), map[string]any{"b": num("2.5")}}}, ""},
		{"BOM", "\xEF\xBB\xBF[true]", []any{true}, ""},
		{"trailing space", "{}  \n", map[string]any{}, ""},
		{"empty", "", nil, "empty body"},
		{"truncated", `{"a": [1, 2`, nil, "unexpected EOF"},
		{"syntax", `{"a": }`, nil, "invalid character '}' looking for beginning of value"},
		{"two values", `{} {}`, nil, "data after the top-level value"},
		{"garbage after value", `[1] x`, nil, "data after the top-level value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := decodeJSON([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("decodeJSON(%q) error = %v, want %q", tt.body, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("decodeJSON(%q) error = %v", tt.body, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decodeJSON(%q) mismatch (-want +got):\n%s", tt.body, diff)
			}
		})
	}
}

func num(s string) json.Number { return json.Number(s) }
