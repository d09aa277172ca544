package storetest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

func testDatasets(t *testing.T, s store.Store) {
	ctx := context.Background()
	if ds, err := s.Datasets(ctx); err != nil || len(ds) != 0 {
		t.Fatalf("Datasets on an empty store = %v, %v; want none", ds, err)
	}
	b1 := mustCreate(t, s, "b", urls("h", 0, "/"))
	a1 := mustCreate(t, s, "a", urls("h", 0, "/"))
	p := mustQueued(t, s, b1.ID, "h")[0]
	if _, err := s.CommitPages(ctx, store.CommitParams{RunID: b1.ID, Dataset: "b", Pages: []store.PageResult{
		{PageID: p.ID, Status: 200, Items: []trawl.Item{item("k1", "one"), item("k2", "two")}},
	}}); err != nil {
		t.Fatal(err)
	}
	before, err := s.Dataset(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	b2 := mustCreate(t, s, "b", nil)
	ds, err := s.Datasets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Dataset{
		{Name: "a", Columns: []string{"title", "tags", "_url"}, Items: 0, LastRun: a1.ID},
		{Name: "b", Columns: []string{"title", "tags", "_url"}, Items: 2, LastRun: b2.ID},
	}
	if diff := cmp.Diff(want, ds, cmpopts.IgnoreFields(store.Dataset{}, "UpdatedAt")); diff != "" {
		t.Errorf("Datasets (-want +got):\n%s", diff)
	}
	for _, d := range ds {
		if d.UpdatedAt.IsZero() {
			t.Errorf("dataset %s: UpdatedAt is zero", d.Name)
		}
	}
	if ds[1].UpdatedAt.Before(before.UpdatedAt) {
		t.Errorf("UpdatedAt went back from %v to %v", before.UpdatedAt, ds[1].UpdatedAt)
	}
	one, err := s.Dataset(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ds[1], *one); diff != "" {
		t.Errorf("Dataset(b) differs from its entry in Datasets (-list +one):\n%s", diff)
	}
}
