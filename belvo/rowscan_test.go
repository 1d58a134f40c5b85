package belvo

import (
	"encoding/json"
	"errors"
	"testing"
)

var rowScanSeeds = []string{
	`{"id":"a","collected_at":"2026-11-29T10:00:00.123Z"}`,
	` { "amount" : 12.5 , "id" : "b" , "created_at" : "2026-11-29T10:00:00+00:00" } `,
	`{"account":{"id":"not-me","collected_at":"2020-01-01T00:00:00Z"},"id":"c","collected_at":"2026-11-29T10:00:00Z"}`,
	`{"merchant":{"name":"a \"quoted\" } name"},"tags":["x","]",{"id":"no"}],"id":"d"}`,
	`{"id":"e","id":"f"}`,
	`{"ID":"g"}`,
	`{"Id":"g","id":"h"}`,
	`{"i\u0064":"i"}`,
	`{"id":"j\"k"}`,
	`{"id":null}`,
	`{"id":17}`,
	`{"id":"l","collected_at":null}`,
	`{"id":"m","collected_at":17}`,
	`{"id":"n","collected_at":"2026-11-29T10:00:00\u002e5Z"}`,
	`{"id":"o","collected_at":true,"created_at":false}`,
	`{}`,
	`[{"id":"p"}]`,
	`"id"`,
	`{"id":"q","nested":[[[{}]]],"n":-1.5e+3}`,
}

// The scanner reads exactly what encoding/json reads, for every field the
// listing asks for.
func TestRowKeysAgreesWithEncodingJSON(t *testing.T) {
	for _, raw := range rowScanSeeds {
		for _, field := range []string{"", "collected_at", "created_at"} {
			checkAgrees(t, []byte(raw), field)
		}
	}
}

// FuzzRowKeys checks the same on any valid JSON, and that no input at all
// makes RowKeys panic.
func FuzzRowKeys(f *testing.F) {
	for _, s := range rowScanSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, field := range []string{"", "collected_at", "created_at"} {
			if !json.Valid(raw) {
				_, _, _, _ = RowKeys(raw, field)
				continue
			}
			checkAgrees(t, raw, field)
		}
	})
}

func checkAgrees(t *testing.T, raw []byte, field string) {
	t.Helper()
	id, stamp, why, err := RowKeys(raw, field)
	wid, wstamp, wwhy, werr := rowKeysDecode(raw, field)
	if id != wid || !stamp.Equal(wstamp) || why != wwhy || (err == nil) != (werr == nil) ||
		(err != nil && !errors.Is(err, ErrRowWithoutID)) {
		t.Errorf("RowKeys(%s, %q) = %q, %v, %q, %v; encoding/json reads %q, %v, %q, %v",
			raw, field, id, stamp, why, err, wid, wstamp, wwhy, werr)
	}
}

// BenchmarkRowKeys compares the scanner with encoding/json on a
// transaction row of the sandbox's shape (about 1.4 KB).
func BenchmarkRowKeys(b *testing.B) {
	row := sampleTransactionRow
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			if _, _, _, err := RowKeys(row, "collected_at"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			if _, _, _, err := rowKeysDecode(row, "collected_at"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// sampleTransactionRow is a transaction row of the sandbox's shape (about
// 1.4 KB), for benchmarks.
var sampleTransactionRow = []byte(`{"id":"0b1f7a4e-8f4c-4a7e-9d2b-3c5e6f7a8b9c","account":{"id":"5f2c","link":"8b1d","institution":{"name":"erebor_mx_retail","type":"bank"},` +
	`"created_at":"2026-11-29T10:00:00.000000Z","category":"CHECKING_ACCOUNT","balance_type":"ASSET","type":"Cuentas de efectivo","name":"Cuenta Perfiles",` +
	`"number":"4057068115181","balance":{"current":5874.13,"available":5621.12},"currency":"MXN","public_identification_name":"CLABE",` +
	`"public_identification_value":"150194683119900273","last_accessed_at":"2026-11-29T10:00:00.000000Z","credit_data":null,"loan_data":null,"funds_data":null},` +
	`"collected_at":"2026-11-29T10:00:00.123456Z","created_at":"2026-11-29T10:00:00.123456Z","value_date":"2026-10-01","accounting_date":"2026-10-01T00:00:00Z",` +
	`"amount":2145.45,"balance":16907.96,"currency":"MXN","description":"SEVEN BUDDHAS RFC:XXXXXXXXXX","observations":"OPTIONAL OBSERVATIONS",` +
	`"merchant":{"logo":"https://belvo.com/logo.png","website":"https://belvo.com","merchant_name":"Seven Buddhas"},"category":"Food & Groceries",` +
	`"subcategory":"Restaurants","reference":"8703","type":"OUTFLOW","status":"PROCESSED","internal_identification":"3","credit_card_data":null,` +
	`"counterparty":{"type":"BUSINESS","name":"Seven Buddhas","document_type":"RFC","document_number":"XXXXXXXXXX"}}`)
