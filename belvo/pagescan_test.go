package belvo

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

var pageScanSeeds = []string{
	`{"count":2,"next":"https://sandbox.belvo.com/api/transactions/?page=2&page_size=2","previous":"https://sandbox.belvo.com/api/transactions/?page=1\u0026page_size=2","results":[{"id":"a"},{"id":"b","n":[1,2.5e-3,-0,true,false,null,"x\"y\u00e9\\"]}]}`,
	` { "results" : [ ] , "count" : 0 , "next" : null } `,
	`{"count":1,"results":[{"id":"a","nested":{"a":{"b":[[[{}]]]}}}],"extra":{"count":"ignored"}}`,
	`{"results":[1,"two",null,[],{}]}`,
	`{}`,
	`{"count":1.5,"results":[]}`,
	`{"count":"1","results":[]}`,
	`{"count":99999999999999999999,"results":[]}`,
	`{"Count":1,"results":[]}`,
	`{"RESULTS":[{"id":"a"}]}`,
	`{"re\u0073ults":[{"id":"a"}]}`,
	`{"results":[{"id":"a"}],"results":[{"id":"b"}]}`,
	`{"next":"a\/b","results":[]}`,
	`{"next":17,"results":[]}`,
	`{"next":"\xff","results":[]}`,
	`{"results":null}`,
	`{"results":{}}`,
	`{"results":[{"id":"a"},]}`,
	`{"results":[{"id":"a"}]`,
	`{"results":[{"id":"a"}]}x`,
	`{"results":[{"id":01}]}`,
	`{"results":[{"id":"a\x01"}]}`,
	`{"results":[{"id":"\u12g4"}]}`,
	`{"results":[{"id":"a","x":tru}]}`,
	`{"results":[{"id":"a","x":1.}]}`,
	`{"results":[{"id":"a","x":1e}]}`,
	`{"results":[{"id":"a","x":-}]}`,
	`{"results":[{"id":"a" "x":1}]}`,
	`{"results":[{"id":"a",}]}`,
	`{"results":[{,}]}`,
	`{"results":[{"id":"\xff\xfe"}]}`,
	`[]`,
	`null`,
	``,
}

// decodePage answers exactly what encoding/json answers, whichever path
// reads the page.
func TestDecodePageAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range pageScanSeeds {
		checkPageAgrees(t, []byte(s))
	}
}

// The seeds above that a plain Belvo page looks like are read by the
// scanner itself, not handed to encoding/json: otherwise the speed-up is
// gone without any test failing.
func TestScanPageReadsPlainPages(t *testing.T) {
	for _, s := range []string{pageScanSeeds[0], pageScanSeeds[1], pageScanSeeds[2], pageScanSeeds[3], pageScanSeeds[4], benchPage(50)} {
		if _, ok := scanPage([]byte(s)); !ok {
			t.Errorf("scanPage left a plain page to encoding/json: %.120s", s)
		}
	}
}

// Nesting deeper than the scanner follows goes to encoding/json, which
// applies its own limit.
func TestDecodePageDeepNesting(t *testing.T) {
	for _, depth := range []int{maxScanDepth - 5, maxScanDepth + 5, 10_001} {
		row := strings.Repeat("[", depth) + strings.Repeat("]", depth)
		checkPageAgrees(t, []byte(`{"results":[`+row+`]}`))
	}
}

// FuzzDecodePage holds the scanner to encoding/json on any input.
func FuzzDecodePage(f *testing.F) {
	for _, s := range pageScanSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkPageAgrees(t, data)
		// A row on its own: the scanner's validation is json.Valid's.
		if end := validValueEnd(data, 0); end >= 0 && end == len(data) && !json.Valid(data) {
			t.Errorf("validValueEnd accepts %q, which json.Valid rejects", data)
		}
	})
}

func checkPageAgrees(t *testing.T, data []byte) {
	t.Helper()
	got, err := decodePage(data)
	var want Page
	werr := json.Unmarshal(data, &want)
	if (err == nil) != (werr == nil) {
		t.Fatalf("decodePage(%q) error %v; encoding/json: %v", data, err, werr)
	}
	if err != nil {
		if err.Error() != werr.Error() {
			t.Errorf("decodePage(%q) error %q; encoding/json: %q", data, err, werr)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decodePage(%q) = %+v; encoding/json reads %+v", data, got, want)
	}
	// A page the scanner reads must be one encoding/json finds valid.
	if _, ok := scanPage(data); ok && !json.Valid(data) {
		t.Errorf("scanPage read invalid JSON %q", data)
	}
}

// benchPage is a page of n sandbox-shaped transaction rows.
func benchPage(n int) string {
	var b bytes.Buffer
	b.WriteString(`{"count":100000,"next":"https://sandbox.belvo.com/api/transactions/?link=x\u0026page=2\u0026page_size=1000","previous":null,"results":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(sampleTransactionRow)
	}
	b.WriteString(`]}`)
	return b.String()
}

// BenchmarkDecodePage compares the scanner with encoding/json on a page of
// 1,000 transactions (about 1.4 MB).
func BenchmarkDecodePage(b *testing.B) {
	page := []byte(benchPage(MaxPageSize))
	b.Run("scan", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodePage(page); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		b.ReportAllocs()
		for b.Loop() {
			var p Page
			if err := json.Unmarshal(page, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
