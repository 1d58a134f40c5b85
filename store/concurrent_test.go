package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/store"
)

// Every method at once, from many goroutines, finishes: the SQLite store
// keeps one connection, so a method that asked for a second one while
// holding the first would wait for itself. The deadline turns such a wait
// into a failure instead of a hung test.
func TestEveryMethodAtOnce(t *testing.T) {
	forEach(t, func(t *testing.T, s store.Store) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		calls := []struct {
			name string
			call func(link string, i int) error
		}{
			{"UpsertRows", func(link string, i int) error {
				return s.UpsertRows(ctx, belvo.Transactions, link, rows(50, fmt.Sprint(i)))
			}},
			{"DeleteRows", func(link string, _ int) error {
				_, err := s.DeleteRows(ctx, belvo.Transactions, link, []string{"id-1", "id-2"})
				return err
			}},
			{"Row", func(link string, _ int) error { _, err := s.Row(ctx, belvo.Transactions, link, "id-3"); return err }},
			{"Count", func(link string, _ int) error { _, err := s.Count(ctx, belvo.Transactions, link); return err }},
			{"MarkFetched", func(link string, i int) error { return s.MarkFetched(ctx, link, belvo.Accounts, i) }},
			{"Fetched", func(link string, _ int) error { _, err := s.Fetched(ctx, link); return err }},
			{"MarkWebhook", func(link string, i int) error { return s.MarkWebhook(ctx, link, fmt.Sprint("k", i)) }},
			{"Webhooks", func(link string, _ int) error { _, err := s.Webhooks(ctx, link); return err }},
			{"AdvanceCursor", func(link string, i int) error {
				return s.AdvanceCursor(ctx, link, belvo.Transactions, time.Unix(int64(i), 0).UTC())
			}},
			{"Cursor", func(link string, _ int) error { _, _, err := s.Cursor(ctx, link, belvo.Transactions); return err }},
			{"DropCursor", func(link string, _ int) error { return s.DropCursor(ctx, link, belvo.Transactions) }},
			{"LinkDeleted", func(link string, _ int) error { _, err := s.LinkDeleted(ctx, link); return err }},
		}
		const goroutines, rounds = 8, 10
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				link := fmt.Sprintf("L%d", g%3) // links shared between goroutines
				for i := range rounds {
					for _, c := range calls {
						if err := c.call(link, g*rounds+i); err != nil {
							t.Errorf("goroutine %d, %s: %v", g, c.name, err)
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		if _, err := s.DeleteLink(ctx, "L0"); err != nil {
			t.Fatalf("DeleteLink after the rest: %v", err)
		}
	})
}
