package spider_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/trawl"
)

var update = flag.Bool("update", false, "rewrite the want.txt golden files")

// TestInvalidGolden parses every testdata/invalid/<case>/spider.{yaml,json}
// and compares the error output with want.txt.
func TestInvalidGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/invalid/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no golden cases found")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			files, err := filepath.Glob(filepath.Join(dir, "spider.*"))
			if err != nil || len(files) != 1 {
				t.Fatalf("want exactly one spider file in %s, got %v (%v)", dir, files, err)
			}
			data, err := os.ReadFile(files[0])
			if err != nil {
				t.Fatal(err)
			}
			sp, err := spider.Parse(filepath.Base(files[0]), data)
			if err == nil {
				t.Fatalf("Parse succeeded with spider %q, want a validation error", sp.Name)
			}
			var ve *spider.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse error is %T, want *spider.ValidationError: %v", err, err)
			}
			if got, want := trawl.ErrorCode(err), trawl.EINVALID; got != want {
				t.Errorf("ErrorCode = %q, want %q", got, want)
			}
			got := err.Error() + "\n"
			wantFile := filepath.Join(dir, "want.txt")
			if *update {
				if err := os.WriteFile(wantFile, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("error output mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
