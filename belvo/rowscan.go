package belvo

import (
	"bytes"
	"unicode/utf8"
)

// scanTopLevel finds the raw values of up to two top-level keys of a JSON
// object in one pass that skips every other value without decoding it.
// Reading a row's id (and the cursor's timestamp) was a third of a
// listing's CPU with encoding/json, which decodes every field of a ~1.4 KB
// transaction to find one; on two cores that CPU is taken from the store.
//
// It relies on raw being valid JSON — the page envelope's decode validated
// it — and answers ok=false, for the caller to take encoding/json's path,
// whenever that path could read the row differently: a key written with
// escapes, a key that matches a wanted one only case-insensitively
// (encoding/json folds case), a wanted value that is not a plain string
// without escapes. A key that appears twice yields its last value, as
// encoding/json does.
func scanTopLevel(raw []byte, k1, k2 string) (v1, v2 []byte, ok bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, nil, false
	}
	i++
	for {
		i = skipSpace(raw, i)
		if i >= len(raw) {
			return nil, nil, false
		}
		if raw[i] == '}' {
			return v1, v2, true
		}
		if raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
		// A key.
		if i >= len(raw) || raw[i] != '"' {
			return nil, nil, false
		}
		end := stringEnd(raw, i)
		if end < 0 {
			return nil, nil, false
		}
		key := raw[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return nil, nil, false
		}
		want := 0
		switch {
		case string(key) == k1:
			want = 1
		case k2 != "" && string(key) == k2:
			want = 2
		case bytes.EqualFold(key, []byte(k1)) || (k2 != "" && bytes.EqualFold(key, []byte(k2))):
			return nil, nil, false
		}
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return nil, nil, false
		}
		i = skipSpace(raw, i+1)
		vEnd := valueEnd(raw, i)
		if vEnd < 0 {
			return nil, nil, false
		}
		switch want {
		case 1:
			v1 = raw[i:vEnd]
		case 2:
			v2 = raw[i:vEnd]
		}
		i = vEnd
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd is the index after the closing quote of the string that
// starts at b[i] (a quote), or -1.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		if j = plainRunEnd(b, j); j >= len(b) {
			break
		}
		switch b[j] {
		case '\\':
			j++ // the escaped character, whatever it is
		case '"':
			return j + 1
		}
	}
	return -1
}

// valueEnd is the index after the JSON value that starts at b[i], or -1.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				e := stringEnd(b, j)
				if e < 0 {
					return -1
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default: // a number, true, false or null: up to the next delimiter
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
}

// plainStringValue is a scanned value's string when it is a JSON string
// without escapes, in valid UTF-8 (encoding/json replaces invalid bytes).
func plainStringValue(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' || bytes.IndexByte(v, '\\') >= 0 || !utf8.Valid(v) {
		return "", false
	}
	return string(v[1 : len(v)-1]), true
}
