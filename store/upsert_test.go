package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/store"
)

// page builds rows whose data names the id and a version, for ids
// id-<from> … id-<to-1>.
func page(from, to int, version string) []store.Row {
	out := make([]store.Row, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, store.Row{ID: fmt.Sprintf("id-%d", i), Data: fmt.Appendf(nil, `{"id":"id-%d","v":%q}`, i, version)})
	}
	return out
}

// Each case writes its pages in order into an empty store, then checks
// each link's count and a few of each link's rows' versions ("": no row).
func TestUpsertPages(t *testing.T) {
	type want struct {
		count    map[string]int               // per link
		versions map[string]map[string]string // link → id → version
		err      bool
	}
	type write struct {
		link string
		rows []store.Row
	}
	dup := func(id, v string) store.Row {
		return store.Row{ID: id, Data: fmt.Appendf(nil, `{"id":%q,"v":%q}`, id, v)}
	}
	cases := []struct {
		name   string
		writes []write
		want   want
	}{
		{
			name:   "duplicates inside a page: the last of each id wins",
			writes: []write{{"L1", []store.Row{dup("id-1", "a"), dup("id-2", "a"), dup("id-1", "b"), dup("id-3", "a"), dup("id-2", "b"), dup("id-1", "c")}}},
			want:   want{count: map[string]int{"L1": 3}, versions: map[string]map[string]string{"L1": {"id-1": "c", "id-2": "b", "id-3": "a"}}},
		},
		{
			name:   "a whole page of one id",
			writes: []write{{"L1", []store.Row{dup("id-1", "a"), dup("id-1", "b"), dup("id-1", "c")}}},
			want:   want{count: map[string]int{"L1": 1}, versions: map[string]map[string]string{"L1": {"id-1": "c"}}},
		},
		{
			name:   "a page of 1,000 rows, then the same page again, changed",
			writes: []write{{"L1", page(0, 1000, "a")}, {"L1", page(0, 1000, "b")}},
			want:   want{count: map[string]int{"L1": 1000}, versions: map[string]map[string]string{"L1": {"id-0": "b", "id-500": "b", "id-999": "b"}}},
		},
		{
			name:   "a page whose first row is stored already",
			writes: []write{{"L1", page(0, 1, "a")}, {"L1", page(0, 1000, "b")}},
			want:   want{count: map[string]int{"L1": 1000}, versions: map[string]map[string]string{"L1": {"id-0": "b", "id-1": "b", "id-999": "b"}}},
		},
		{
			name:   "a page whose last row is stored already",
			writes: []write{{"L1", page(999, 1000, "a")}, {"L1", page(0, 1000, "b")}},
			want:   want{count: map[string]int{"L1": 1000}, versions: map[string]map[string]string{"L1": {"id-0": "b", "id-998": "b", "id-999": "b"}}},
		},
		{
			name:   "pages of two links do not leak into each other",
			writes: []write{{"L1", page(0, 700, "a")}, {"L2", page(700, 1000, "x")}, {"L1", page(1000, 1001, "a")}},
			want:   want{count: map[string]int{"L1": 701, "L2": 300}, versions: map[string]map[string]string{"L1": {"id-0": "a", "id-1000": "a", "id-700": ""}, "L2": {"id-0": "", "id-700": "x", "id-999": "x"}}},
		},
		{
			name:   "an id listed by two links is a row of each",
			writes: []write{{"L1", page(0, 10, "a")}, {"L2", page(5, 10, "x")}},
			want:   want{count: map[string]int{"L1": 10, "L2": 5}, versions: map[string]map[string]string{"L1": {"id-4": "a", "id-5": "a"}, "L2": {"id-4": "", "id-5": "x", "id-9": "x"}}},
		},
	}
	forEach(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := belvo.AllResources()[i] // a table of its own per case
				var err error
				for _, w := range c.writes {
					if err = s.UpsertRows(ctx, r, w.link, w.rows); err != nil {
						break
					}
				}
				if (err != nil) != c.want.err {
					t.Fatalf("err = %v, want an error: %v", err, c.want.err)
				}
				for link, n := range c.want.count {
					if got, err := s.Count(ctx, r, link); err != nil || got != n {
						t.Errorf("Count(%s) = %d, %v; want %d", link, got, err, n)
					}
				}
				for link, ids := range c.want.versions {
					for id, v := range ids {
						if got := version(t, s, r, link, id); got != v {
							t.Errorf("%s of %s has version %q, want %q", id, link, got, v)
						}
					}
				}
			})
		}
	})
}

// Writers upsert overlapping pages, each in its own order, at the same time:
// none fails (PostgreSQL would report a deadlock as an error), and the end
// state holds every id once, with a version one writer wrote for it.
func TestConcurrentOverlappingUpserts(t *testing.T) {
	forEach(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		const writers, rounds, ids = 6, 8, 400
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for round := range rounds {
					// Writer w covers 300 ids from 0 or 50, overlapping
					// every other writer's by 250; half the pages go
					// backwards.
					from := (w * 50) % (ids - 300)
					rows := page(from, from+300, fmt.Sprintf("w%d", w))
					if (w+round)%2 == 1 {
						slices.Reverse(rows)
					}
					if err := s.UpsertRows(ctx, belvo.Transactions, "LC", rows); err != nil {
						t.Errorf("writer %d round %d: %v", w, round, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		// The union of the windows, and who wrote each id.
		covered := map[int][]string{}
		for w := range writers {
			from := (w * 50) % (ids - 300)
			for i := from; i < from+300; i++ {
				covered[i] = append(covered[i], fmt.Sprintf("w%d", w))
			}
		}
		if n, err := s.Count(ctx, belvo.Transactions, "LC"); err != nil || n != len(covered) {
			t.Fatalf("Count = %d, %v; want %d", n, err, len(covered))
		}
		for i, vs := range covered {
			if v := version(t, s, belvo.Transactions, "LC", fmt.Sprintf("id-%d", i)); !slices.Contains(vs, v) {
				t.Errorf("id-%d has version %q, not one its writers %v wrote", i, v, vs)
			}
		}
	})
}

// A deleted link's page is refused as a whole, whatever its size, and the
// refusal leaves nothing behind for the next page of a live link.
func TestUpsertDeletedLink(t *testing.T) {
	forEach(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		if err := s.UpsertRows(ctx, belvo.Transactions, "LD", page(0, 10, "a")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DeleteLink(ctx, "LD"); err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 1000} {
			if err := s.UpsertRows(ctx, belvo.Transactions, "LD", page(0, n, "b")); !errors.Is(err, store.ErrLinkDeleted) {
				t.Errorf("page of %d rows for a deleted link: %v, want ErrLinkDeleted", n, err)
			}
		}
		if n, _ := s.Count(ctx, belvo.Transactions, "LD"); n != 0 {
			t.Errorf("%d rows of the deleted link", n)
		}
		if err := s.UpsertRows(ctx, belvo.Transactions, "LE", page(2000, 2003, "c")); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.Count(ctx, belvo.Transactions, "LE"); n != 3 {
			t.Errorf("the live link has %d rows, want 3", n)
		}
	})
}
