package sandbox

import (
	"encoding/json"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
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
	return uuid.NewSHA1(idSpace, rowKey(linkID, r, i)).String()
}

// rng is a generator seeded by (seed, link, resource, row), so any row can be
// produced alone, in any order, without holding the link's data in memory.
func rng(seed uint64, linkID string, r belvo.Resource, i int) *rand.Rand {
	h := fnv.New64a()
	_, _ = h.Write(rowKey(linkID, r, i)) // a hash's Write never fails
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// rowKey names row i of a resource of a link: "<link>/<resource>/<i>", what
// its id and its generator derive from.
func rowKey(linkID string, r belvo.Resource, i int) []byte {
	return appendRowKey(make([]byte, 0, len(linkID)+len(r)+12), linkID, r, i)
}

// appendRowKey appends rowKey's bytes to b, for a caller reusing a buffer.
func appendRowKey(b []byte, linkID string, r belvo.Resource, i int) []byte {
	b = append(b, linkID...)
	b = append(b, '/')
	b = append(b, r...)
	b = append(b, '/')
	return strconv.AppendInt(b, int64(i), 10)
}

// stampLayout is Belvo's timestamp form: UTC, milliseconds, a Z.
const stampLayout = "2006-01-02T15:04:05.000Z"

func ts(t time.Time) string { return t.UTC().Format(stampLayout) }

var (
	categories   = []string{"Food & Groceries", "Bills & Utilities", "Transfers", "Income & Payments", "Transport & Travel", "Personal Shopping"}
	subcats      = []string{"Groceries", "Electricity & Energy", "Other", "Salary", "Public Transit", "Clothing & Accessories"}
	merchants    = []string{"Abarrotes Erebor", "CFE", "Transferencia SPEI", "Nómina Erebor", "Metro CDMX", "Tienda Moria"}
	accountNames = []string{"Cuenta Perfiles", "Cuenta Ahorro", "Tarjeta Oro", "Cuenta Nómina"}
)

// linkRow opens row i of a resource with the members that the objects
// naming their link begin with: the row's id and its link's.
func linkRow(l *link, res belvo.Resource, i int) *rowJSON {
	w := &rowJSON{}
	w.open("")
	w.str("id", rowID(l.ID, res, i))
	w.str("link", l.ID)
	return w
}

// account is the Belvo Account object of account i of a link (spec v1.35.0).
func (s *Server) account(l *link, i int) []byte {
	r := rng(s.cfg.Seed, l.ID, belvo.Accounts, i)
	current := float64(r.IntN(5_000_000)) / 100
	number, public := r.Int64N(1e16), r.Int64N(1e18)
	stamp := s.stampOf(l, belvo.Accounts, i)
	w := linkRow(l, belvo.Accounts, i)
	w.open("institution")
	w.str("name", l.Institution)
	w.str("type", "bank")
	w.close()
	w.stamp("collected_at", stamp)
	w.stamp("created_at", stamp)
	w.str("category", "CHECKING_ACCOUNT")
	w.str("balance_type", "ASSET")
	w.str("type", "Cuentas de efectivo")
	w.str("name", accountNames[i%len(accountNames)])
	w.padded("number", "", number, 16, "")
	w.open("balance")
	w.num("current", current)
	w.num("available", current)
	w.close()
	w.str("currency", "MXN")
	w.str("public_identification_name", "CLABE")
	w.padded("public_identification_value", "", public, 18, "")
	w.stamp("last_accessed_at", l.CreatedAt)
	w.null("credit_data")
	w.null("loan_data")
	w.null("funds_data")
	w.null("receivables_data")
	w.padded("bank_product_id", "PRD-", int64(i), 3, "")
	w.padded("internal_identification", "ACC-", int64(i), 6, "")
	w.close()
	return w.b
}

// transaction is transaction i of a link (spec v1.35.0), spread over the
// link's accounts, newest first; version > 0 marks one Belvo updated.
func (s *Server) transaction(l *link, i, version int) []byte {
	r := rng(s.cfg.Seed, l.ID, belvo.Transactions, i)
	k := r.IntN(len(categories))
	day := epoch.Add(-time.Duration(i/10) * 24 * time.Hour)
	typ, amount := "OUTFLOW", float64(r.IntN(500_000))/100+1
	if k == 3 { // keep in step with rowType
		typ = "INFLOW"
	}
	balance, reference := float64(r.IntN(5_000_000))/100, r.IntN(1e8)
	stamp := s.stampOf(l, belvo.Transactions, i)
	var w rowJSON
	w.b = make([]byte, 0, 1024)
	w.open("")
	w.str("id", rowID(l.ID, belvo.Transactions, i))
	w.padded("internal_identification", "TX-", int64(i), 8, "")
	w.raw("account", s.embeddedAccount(l, i%l.Accounts))
	w.stamp("collected_at", stamp)
	w.stamp("created_at", stamp)
	w.date("value_date", day)
	w.stamp("accounting_date", day)
	w.num("amount", amount)
	w.num("balance", balance)
	w.str("currency", "MXN")
	w.str("description", merchants[k])
	if version > 0 {
		w.str("observations", "updated by Belvo (version "+strconv.Itoa(version)+")")
	} else {
		w.null("observations")
	}
	w.open("merchant")
	w.null("logo")
	w.null("website")
	w.str("merchant_name", merchants[k])
	w.close()
	w.str("category", categories[k])
	w.str("subcategory", subcats[k])
	w.padded("reference", "", int64(reference), 8, "")
	w.str("type", typ)
	w.str("status", "PROCESSED")
	w.null("credit_card_data")
	w.close()
	return w.b
}

// embeddedAccount is account i as a transaction embeds it: the JSON made
// when the link was created, or made now for a link built another way.
func (s *Server) embeddedAccount(l *link, i int) []byte {
	if i < len(l.accountJSON) {
		return l.accountJSON[i]
	}
	return s.account(l, i)
}

// owner is owner i of a link (spec v1.35.0).
func (s *Server) owner(l *link, i int) []byte {
	r := rng(s.cfg.Seed, l.ID, belvo.Owners, i)
	name, document := r.IntN(1000), r.IntN(1e6)
	stamp := s.stampOf(l, belvo.Owners, i)
	w := linkRow(l, belvo.Owners, i)
	w.padded("internal_identification", "OWN-", int64(i), 4, "")
	w.stamp("collected_at", stamp)
	w.stamp("created_at", stamp)
	w.str("display_name", "Bilbo Bolsón "+strconv.Itoa(name))
	w.str("email", "owner"+strconv.Itoa(i)+"@example.com")
	w.str("phone_number", "+52-55-0000-0000")
	w.str("address", "Bolsón Cerrado 1, Hobbiton, CDMX")
	w.open("document_id")
	w.str("document_type", "CURP")
	w.padded("document_number", "BOBB", int64(document), 6, "HDFLRS09")
	w.close()
	w.str("last_name", "Bolsón")
	w.null("second_last_name")
	w.close()
	return w.b
}

// generic is a minimal object for resources the emulator does not model in
// detail yet: enough for paging, ids, filters and storage. Invoices carry
// the date and type their async requests filter on.
func (s *Server) generic(l *link, res belvo.Resource, i int) []byte {
	stamp := s.stampOf(l, res, i)
	w := linkRow(l, res, i)
	w.stamp("collected_at", stamp)
	w.stamp("created_at", stamp)
	if d, ok := rowDate(res, i); ok {
		w.str("invoice_date", d)
		w.str("type", rowType(s.cfg.Seed, l, res, i))
	}
	w.close()
	return w.b
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
	switch res {
	case belvo.Accounts:
		return s.account(l, i)
	case belvo.Transactions:
		return s.transaction(l, i, version)
	case belvo.Owners:
		return s.owner(l, i)
	default:
		return s.generic(l, res, i)
	}
}
