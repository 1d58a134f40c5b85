package sandbox

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/google/uuid"
)

// idSpace namespaces the emulator's deterministic ids (UUIDv5).
var idSpace = uuid.MustParse("6f1c2a4e-3b7d-4d8e-9a51-0c2b7e9f4a10")

// epoch anchors every generated date, so data is the same on every run.
var epoch = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// rowID is the deterministic Belvo id of row i of a resource of a link.
func rowID(linkID string, r belvo.Resource, i int) string {
	return uuid.NewSHA1(idSpace, fmt.Appendf(nil, "%s/%s/%d", linkID, r, i)).String()
}

// rng is a generator seeded by (seed, link, resource, row), so any row can be
// produced alone, in any order, without holding the link's data in memory.
func rng(seed uint64, linkID string, r belvo.Resource, i int) *rand.Rand {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%s/%d", linkID, r, i)
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

var (
	categories   = []string{"Food & Groceries", "Bills & Utilities", "Transfers", "Income & Payments", "Transport & Travel", "Personal Shopping"}
	subcats      = []string{"Groceries", "Electricity & Energy", "Other", "Salary", "Public Transit", "Clothing & Accessories"}
	merchants    = []string{"Abarrotes Erebor", "CFE", "Transferencia SPEI", "Nómina Erebor", "Metro CDMX", "Tienda Moria"}
	accountNames = []string{"Cuenta Perfiles", "Cuenta Ahorro", "Tarjeta Oro", "Cuenta Nómina"}
)

// account is the Belvo Account object of account i of a link (spec v1.35.0).
func (s *Server) account(l *link, i int) map[string]any {
	r := rng(s.cfg.Seed, l.ID, belvo.Accounts, i)
	current := float64(r.IntN(5_000_000)) / 100
	return map[string]any{
		"id":           rowID(l.ID, belvo.Accounts, i),
		"link":         l.ID,
		"institution":  map[string]any{"name": l.Institution, "type": "bank"},
		"collected_at": ts(s.stampOf(l, belvo.Accounts, i)), "created_at": ts(s.stampOf(l, belvo.Accounts, i)),
		"category":                    "CHECKING_ACCOUNT",
		"balance_type":                "ASSET",
		"type":                        "Cuentas de efectivo",
		"name":                        accountNames[i%len(accountNames)],
		"number":                      fmt.Sprintf("%016d", r.Int64N(1e16)),
		"balance":                     map[string]any{"current": current, "available": current},
		"currency":                    "MXN",
		"public_identification_name":  "CLABE",
		"public_identification_value": fmt.Sprintf("%018d", r.Int64N(1e18)),
		"last_accessed_at":            ts(l.CreatedAt),
		"credit_data":                 nil,
		"loan_data":                   nil,
		"funds_data":                  nil,
		"receivables_data":            nil,
		"bank_product_id":             fmt.Sprintf("PRD-%03d", i),
		"internal_identification":     fmt.Sprintf("ACC-%06d", i),
	}
}

// transaction is transaction i of a link (spec v1.35.0), spread over the
// link's accounts, newest first.
func (s *Server) transaction(l *link, i int) map[string]any {
	r := rng(s.cfg.Seed, l.ID, belvo.Transactions, i)
	k := r.IntN(len(categories))
	day := epoch.Add(-time.Duration(i/10) * 24 * time.Hour)
	typ, amount := "OUTFLOW", float64(r.IntN(500_000))/100+1
	if k == 3 { // keep in step with rowType
		typ = "INFLOW"
	}
	return map[string]any{
		"id":                      rowID(l.ID, belvo.Transactions, i),
		"internal_identification": fmt.Sprintf("TX-%08d", i),
		"account":                 s.embeddedAccount(l, i%l.Accounts),
		"collected_at":            ts(s.stampOf(l, belvo.Transactions, i)),
		"created_at":              ts(s.stampOf(l, belvo.Transactions, i)),
		"value_date":              day.Format("2006-01-02"),
		"accounting_date":         ts(day),
		"amount":                  amount,
		"balance":                 float64(r.IntN(5_000_000)) / 100,
		"currency":                "MXN",
		"description":             merchants[k],
		"observations":            nil,
		"merchant":                map[string]any{"logo": nil, "website": nil, "merchant_name": merchants[k]},
		"category":                categories[k],
		"subcategory":             subcats[k],
		"reference":               fmt.Sprintf("%08d", r.IntN(1e8)),
		"type":                    typ,
		"status":                  "PROCESSED",
		"credit_card_data":        nil,
	}
}

// embeddedAccount is account i as a transaction embeds it: the JSON made
// when the link was created, or made now for a link built another way.
func (s *Server) embeddedAccount(l *link, i int) any {
	if i < len(l.accountJSON) {
		return l.accountJSON[i]
	}
	return s.account(l, i)
}

// owner is owner i of a link (spec v1.35.0).
func (s *Server) owner(l *link, i int) map[string]any {
	r := rng(s.cfg.Seed, l.ID, belvo.Owners, i)
	return map[string]any{
		"id":                      rowID(l.ID, belvo.Owners, i),
		"link":                    l.ID,
		"internal_identification": fmt.Sprintf("OWN-%04d", i),
		"collected_at":            ts(s.stampOf(l, belvo.Owners, i)),
		"created_at":              ts(s.stampOf(l, belvo.Owners, i)),
		"display_name":            fmt.Sprintf("Bilbo Bolsón %d", r.IntN(1000)),
		"email":                   fmt.Sprintf("owner%d@example.com", i),
		"phone_number":            "+52-55-0000-0000",
		"address":                 "Bolsón Cerrado 1, Hobbiton, CDMX",
		"document_id":             map[string]any{"document_type": "CURP", "document_number": fmt.Sprintf("BOBB%06dHDFLRS09", r.IntN(1e6))},
		"last_name":               "Bolsón",
		"second_last_name":        nil,
	}
}

// generic is a minimal object for resources the emulator does not model in
// detail yet: enough for paging, ids, filters and storage. Invoices carry
// the date and type their async requests filter on.
func (s *Server) generic(l *link, res belvo.Resource, i int) map[string]any {
	v := map[string]any{
		"id":           rowID(l.ID, res, i),
		"link":         l.ID,
		"collected_at": ts(s.stampOf(l, res, i)),
		"created_at":   ts(s.stampOf(l, res, i)),
	}
	if d, ok := rowDate(res, i); ok {
		v["invoice_date"] = d
		v["type"] = rowType(s.cfg.Seed, l, res, i)
	}
	return v
}

// rowDate is the date a row is filtered on, for dated resources.
func rowDate(res belvo.Resource, i int) (string, bool) {
	switch res {
	case belvo.Transactions:
		return epoch.Add(-time.Duration(i/10) * 24 * time.Hour).Format("2006-01-02"), true
	case belvo.Invoices, belvo.CLInvoices:
		return epoch.Add(-time.Duration(i) * 24 * time.Hour).Format("2006-01-02"), true
	}
	return "", false
}

// rowType is a row's INFLOW/OUTFLOW type.
func rowType(seed uint64, l *link, res belvo.Resource, i int) string {
	if res == belvo.Transactions {
		if rng(seed, l.ID, belvo.Transactions, i).IntN(len(categories)) == 3 {
			return "INFLOW"
		}
		return "OUTFLOW"
	}
	if i%2 == 0 {
		return "INFLOW"
	}
	return "OUTFLOW"
}

// row renders row i of a resource of a link; version > 0 marks a row Belvo
// updated (transactions_updated), so its stored copy must change.
func (s *Server) row(l *link, res belvo.Resource, i, version int) json.RawMessage {
	var v map[string]any
	switch res {
	case belvo.Accounts:
		v = s.account(l, i)
	case belvo.Transactions:
		v = s.transaction(l, i)
		if version > 0 {
			v["observations"] = fmt.Sprintf("updated by Belvo (version %d)", version)
		}
	case belvo.Owners:
		v = s.owner(l, i)
	default:
		v = s.generic(l, res, i)
	}
	b, _ := json.Marshal(v) // maps of plain values always marshal
	return b
}
