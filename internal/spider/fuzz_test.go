package spider_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/trawl-dev/trawl/internal/spider"
)

func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"testdata/valid/*", "testdata/invalid/*/spider.*"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("x: &x {a: 1}\nname: *x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sp, err := spider.Parse("fuzz.yaml", data)
		if err == nil {
			if sp == nil || sp.Hash == "" {
				t.Fatalf("Parse returned no error and spider %v", sp)
			}
			return
		}
		var ve *spider.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("Parse error is %T, want *spider.ValidationError: %v", err, err)
		}
		if len(ve.Problems) == 0 {
			t.Fatal("ValidationError has no problems")
		}
		for _, p := range ve.Problems {
			if p.Line < 1 || p.Column < 1 {
				t.Errorf("problem %+v has no position", p)
			}
		}
	})
}
