//go:build integration

package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/internal/testenv"
	"github.com/belvo-temporal/backbone/store"
	"github.com/google/uuid"
)

// BenchmarkPostgresUpsertPage writes pages of 1,000 new transaction-shaped
// rows (about 1 KB of JSON each), as a historical listing does: compare
// write-path variants with it (go test -tags integration -bench
// PostgresUpsertPage ./store); speed figures belong in BENCHMARKS.md.
// "one link" is a long listing (ordered ids); "a link per page" is many
// small listings with random UUIDs, as Belvo's, the end-to-end shape.
func BenchmarkPostgresUpsertPage(b *testing.B) {
	for _, c := range []struct {
		name string
		link func() string      // of the next page
		id   func(n int) string // of the nth row written
	}{
		{"one link", func() string { return "LB" },
			func(n int) string { return fmt.Sprintf("%08d-5d0b-4c1e-9a7e-bench%07d", n, n) }},
		{"a link per page", uuid.NewString, func(int) string { return uuid.NewString() }},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			s, err := store.Open(ctx, testenv.PostgresSchema(b))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				rows := make([]store.Row, pageSize)
				for i := range rows {
					id := c.id(n)
					rows[i] = store.Row{ID: id, Data: transactionJSON(id)}
					n++
				}
				if err := s.UpsertRows(ctx, belvo.Transactions, c.link(), rows); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// pageSize is the rows of a page in the benchmarks: Belvo's largest.
const pageSize = 1000

// transactionJSON is a row shaped like the emulator's transactions.
func transactionJSON(id string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"account":{"id":"0d3ffb69-f83b-456e-ad8e-208d0998d71d","link":"30cb4806-6e00-48a4-91c9-ca55968576c8",`+
		`"institution":{"name":"erebor_mx_retail","type":"bank"},"created_at":"2026-11-01T10:00:00.000Z","category":"CHECKING_ACCOUNT",`+
		`"type":"Cuentas de efectivo","name":"Cuenta Perfiles- M.N. - MXN-666","number":"4057068115181","balance":{"current":5874.13,"available":5621.12},`+
		`"currency":"MXN","public_identification_name":"CLABE","public_identification_value":"150194683119900273"},`+
		`"created_at":"2026-11-02T08:01:02.000Z","collected_at":"2026-11-02T08:01:02.000Z","value_date":"2026-10-30",`+
		`"accounting_date":"2026-10-30T12:00:00.000Z","amount":2145.45,"balance":16907.96,"currency":"MXN",`+
		`"description":"CARGO A CUENTA \"ÑANDÚ\" 💸","observations":null,"merchant":{"logo":"https://example.com/logo.png","website":"https://example.com","merchant_name":"Merchant"},`+
		`"category":"Online Platforms & Leisure","subcategory":"Music & Audio","reference":"8703","type":"OUTFLOW","status":"PROCESSED",`+
		`"internal_identification":"e5b0f0c1","credit_card_data":null}`, id)
}
