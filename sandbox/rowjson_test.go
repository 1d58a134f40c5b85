package sandbox

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// encodingJSON is what encoding/json writes for v without HTML escaping:
// the form rowJSON promises.
func encodingJSON(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", "Bolsón Cerrado 1", "Food & Groceries <b>", `quote " and \ backslash`,
		"tab\tnewline\nreturn\rbell\abackspace\bformfeed\f", "\x00\x01\x1f\x7f",
		"line\u2028para\u2029end", "bad \xff utf-8 \xe2\x82", "emoji 🏦 and ñ",
	} {
		if got, want := string(appendJSONString(nil, s)), encodingJSON(t, s); got != want {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestRowJSONMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 11, 30, 22, 4, 5, 678_900_000, time.FixedZone("CST", -6*3600))
	tests := []struct {
		name  string
		write func(w *rowJSON)
		want  any
	}{
		{"empty object", func(*rowJSON) {}, map[string]any{}},
		{"members and nesting", func(w *rowJSON) {
			w.str("a", "x")
			w.open("n")
			w.null("z")
			w.open("m")
			w.close()
			w.close()
			w.raw("r", []byte(`{"k":[1,2]}`))
		}, map[string]any{"a": "x", "n": map[string]any{"z": nil, "m": map[string]any{}}, "r": map[string]any{"k": []int{1, 2}}}},
		{"numbers", func(w *rowJSON) {
			w.num("a", 4841.15)
			w.num("b", 1)
			w.num("c", 0.01)
			w.num("d", 49999.99)
			w.num("e", 0)
		}, map[string]any{"a": 4841.15, "b": 1.0, "c": 0.01, "d": 49999.99, "e": 0.0}},
		{"stamps and dates in UTC", func(w *rowJSON) {
			w.stamp("t", at)
			w.date("d", at.UTC())
		}, map[string]any{"t": ts(at), "d": at.UTC().Format("2006-01-02")}},
		{"padded", func(w *rowJSON) {
			w.padded("a", "", 42, 8, "")
			w.padded("b", "BOBB", 7, 6, "HDFLRS09")
			w.padded("c", "PRD-", 12345, 3, "")
			w.padded("d", "", 0, 1, "")
		}, map[string]any{"a": "00000042", "b": "BOBB000007HDFLRS09", "c": "PRD-12345", "d": "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w rowJSON
			w.open("")
			tt.write(&w)
			w.close()
			var got, want any
			if err := json.Unmarshal(w.b, &got); err != nil {
				t.Fatalf("not JSON: %s: %v", w.b, err)
			}
			if err := json.Unmarshal([]byte(encodingJSON(t, tt.want)), &want); err != nil {
				t.Fatal(err)
			}
			if g, w := encodingJSON(t, got), encodingJSON(t, want); g != w {
				t.Errorf("got %s, want %s", g, w)
			}
		})
	}
}
