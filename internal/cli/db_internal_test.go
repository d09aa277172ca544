package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// TestOpenStoreByScheme: --db picks the store by its scheme; SQLite's file
// stays reachable behind the optional pather interface.
func TestOpenStoreByScheme(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := Env{Dir: dir}
	for _, dsn := range []string{"a.db", "sqlite:b.db", "sqlite://c.db", "file:d.db"} {
		st, err := openStore(context.Background(), dsn, env)
		if err != nil {
			t.Errorf("openStore(%q): %v", dsn, err)
			continue
		}
		p, ok := st.(pather)
		if want := filepath.Join(dir, dsn[strings.LastIndexAny(dsn, ":/")+1:]); !ok || p.Path() != want {
			t.Errorf("openStore(%q): path %v, want %s", dsn, p, want)
		}
		if _, ok := st.(checkpointer); !ok {
			t.Errorf("openStore(%q): a SQLite store without Checkpoint", dsn)
		}
		st.Close()
	}
	tests := []struct{ dsn, want string }{
		{"mysql://h/db", "unknown database scheme mysql://"},
	}
	for _, tt := range tests {
		_, err := openStore(context.Background(), tt.dsn, env)
		if trawl.ErrorCode(err) != trawl.EINVALID || !strings.Contains(trawl.ErrorMessage(err), tt.want) {
			t.Errorf("openStore(%q) = %v, want invalid: %q", tt.dsn, err, tt.want)
		}
	}
}
