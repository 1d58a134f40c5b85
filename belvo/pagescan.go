package belvo

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// decodePage reads one answer of a list endpoint into a Page.
//
// encoding/json reads a 1.4 MB page of 1,000 transactions in three passes —
// a validity check of the whole body, a second scan of every row to find
// its end, and a copy of each row — and on two cores that CPU is taken from
// the store that writes the previous page at the same time. scanPage does
// it in one validating pass and leaves each row where it is in the body.
// Whatever scanPage does not answer, encoding/json does, so the result
// and the errors are encoding/json's in every case (FuzzDecodePage).
func decodePage(data []byte) (Page, error) {
	if p, ok := scanPage(data); ok {
		return p, nil
	}
	var p Page
	if err := json.Unmarshal(data, &p); err != nil {
		return Page{}, err
	}
	return p, nil
}

// The envelope's members, as bits of a set of those already read.
const (
	memberCount = 1 << iota
	memberNext
	memberPrevious
	memberResults
)

// scanPage is decodePage's one-pass reading. It answers ok=false, for
// encoding/json to decide, for invalid JSON and for every valid envelope
// that encoding/json could read differently from a plain reading: a key
// written with escapes or matching a member only case-insensitively
// (encoding/json folds case), a member given twice, a member of another
// type than the plain one (a count that is not an integer, a next that is
// not a string or null, results that are not an array). Rows are sub-slices of data: they are returned as they were sent.
func scanPage(data []byte) (p Page, ok bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return Page{}, false
	}
	i = skipSpace(data, i+1)
	seen := 0
	if i < len(data) && data[i] == '}' {
		return p, skipSpace(data, i+1) == len(data)
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return Page{}, false
		}
		end, escaped := validStringEnd(data, i)
		if end < 0 || escaped {
			return Page{}, false
		}
		member, known := pageMember(data[i+1 : end-1])
		if !known || seen&member != 0 {
			return Page{}, false
		}
		seen |= member
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return Page{}, false
		}
		i = skipSpace(data, i+1)
		switch member {
		case memberCount:
			i, ok = scanCount(data, i, &p.Count)
		case memberNext:
			i, ok = scanURL(data, i, &p.Next)
		case memberPrevious:
			i, ok = scanURL(data, i, &p.Previous)
		case memberResults:
			i, ok = scanRows(data, i, &p.Results)
		default:
			i = validValueEnd(data, i)
			ok = i >= 0
		}
		if !ok {
			return Page{}, false
		}
		i = skipSpace(data, i)
		if i >= len(data) {
			return Page{}, false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return p, skipSpace(data, i+1) == len(data)
		default:
			return Page{}, false
		}
	}
}

// pageMembers are the envelope's members by their JSON names.
var pageMembers = []struct {
	name []byte
	bit  int
}{{[]byte("count"), memberCount}, {[]byte("next"), memberNext}, {[]byte("previous"), memberPrevious}, {[]byte("results"), memberResults}}

// pageMember is the envelope member a plain key names (0 for another
// key); known is false when encoding/json's case folding could match the
// key to a member the plain reading does not.
func pageMember(key []byte) (member int, known bool) {
	for _, m := range pageMembers {
		if bytes.Equal(key, m.name) {
			return m.bit, true
		}
		if bytes.EqualFold(key, m.name) {
			return 0, false
		}
	}
	return 0, true
}

// scanCount reads an integer count; anything else is left to encoding/json.
func scanCount(data []byte, i int, out *int) (int, bool) {
	end := validNumberEnd(data, i)
	if end < 0 {
		return -1, false
	}
	n, err := strconv.Atoi(string(data[i:end]))
	if err != nil {
		return -1, false
	}
	*out = n
	return end, true
}

// scanURL reads next or previous: null or a string.
func scanURL(data []byte, i int, out **string) (int, bool) {
	if end := literalEnd(data, i, "null"); end >= 0 {
		*out = nil
		return end, true
	}
	if i >= len(data) || data[i] != '"' {
		return -1, false
	}
	end, escaped := validStringEnd(data, i)
	if end < 0 {
		return -1, false
	}
	s := string(data[i+1 : end-1])
	if escaped || !utf8.Valid(data[i+1:end-1]) {
		// Escapes are common here (Go's and other encoders write & as
		// \u0026): the URL alone goes through encoding/json.
		if err := json.Unmarshal(data[i:end], &s); err != nil {
			return -1, false
		}
	}
	*out = &s
	return end, true
}

// scanRows reads the results array, each row validated and kept in place.
func scanRows(data []byte, i int, out *[]json.RawMessage) (int, bool) {
	if i >= len(data) || data[i] != '[' {
		return -1, false
	}
	rows := []json.RawMessage{} // encoding/json's [] is empty, not nil
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		*out = rows
		return i + 1, true
	}
	for {
		end := validValueEnd(data, i)
		if end < 0 {
			return -1, false
		}
		rows = append(rows, data[i:end:end])
		i = skipSpace(data, end)
		if i >= len(data) {
			return -1, false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case ']':
			*out = rows
			return i + 1, true
		default:
			return -1, false
		}
	}
}

// maxScanDepth bounds the nesting validValueEnd follows; deeper values go
// to encoding/json, which has its own limit (10,000).
const maxScanDepth = 1000

// validValueEnd is the index after the JSON value that starts at b[i], or
// -1 when no valid value starts there (by RFC 8259's grammar, as
// encoding/json checks it: invalid UTF-8 inside strings is accepted).
func validValueEnd(b []byte, i int) int {
	var buf [32]byte
	open := buf[:0] // the containers entered and not yet closed: '{' or '['
	for {
		// A value starts at i.
		if i >= len(b) {
			return -1
		}
		closed := true
		switch c := b[i]; {
		case c == '{' || c == '[':
			j := skipSpace(b, i+1)
			if j < len(b) && b[j] == c+2 { // '}' is '{'+2, ']' is '['+2
				i = j + 1
				break
			}
			if len(open) == maxScanDepth {
				return -1
			}
			open = append(open, c)
			i = j
			if c == '{' {
				i = memberValueStart(b, i)
			}
			closed = false
		case c == '"':
			i, _ = validStringEnd(b, i)
		case c == '-' || (c >= '0' && c <= '9'):
			i = validNumberEnd(b, i)
		case c == 't':
			i = literalEnd(b, i, "true")
		case c == 'f':
			i = literalEnd(b, i, "false")
		case c == 'n':
			i = literalEnd(b, i, "null")
		default:
			return -1
		}
		if i < 0 {
			return -1
		}
		// After a complete value: a separator or closers.
		for closed {
			if len(open) == 0 {
				return i
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return -1
			}
			top := open[len(open)-1]
			switch b[i] {
			case ',':
				i = skipSpace(b, i+1)
				if top == '{' {
					if i = memberValueStart(b, i); i < 0 {
						return -1
					}
				}
				closed = false
			case top + 2: // its closer
				open = open[:len(open)-1]
				i++
			default:
				return -1
			}
		}
	}
}

// memberValueStart reads an object member's key and colon at b[i] and is
// the index where its value starts, or -1.
func memberValueStart(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	end, _ := validStringEnd(b, i)
	if end < 0 {
		return -1
	}
	i = skipSpace(b, end)
	if i >= len(b) || b[i] != ':' {
		return -1
	}
	return skipSpace(b, i+1)
}

// validStringEnd is the index after the string that starts at b[i] (a
// quote), or -1 when it is not a valid JSON string; escaped says whether it
// holds any escape.
func validStringEnd(b []byte, i int) (end int, escaped bool) {
	for j := i + 1; j < len(b); j++ {
		j = plainRunEnd(b, j)
		if j >= len(b) {
			break
		}
		switch c := b[j]; {
		case c == '"':
			return j + 1, escaped
		case c == '\\':
			escaped = true
			j++
			if j >= len(b) {
				return -1, escaped
			}
			switch b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(b) {
					return -1, escaped
				}
				for _, h := range b[j+1 : j+5] {
					if !isHex(h) {
						return -1, escaped
					}
				}
				j += 4
			default:
				return -1, escaped
			}
		case c < 0x20:
			return -1, escaped
		}
	}
	return -1, escaped
}

// plainRunEnd is the index of the first byte from b[j] on that needs a
// look inside a string (a quote, a backslash or a control character), or
// of the last few bytes: it reads eight bytes at a time, since most of a
// page's bytes are inside strings.
func plainRunEnd(b []byte, j int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; j+8 <= len(b); j += 8 {
		x := binary.LittleEndian.Uint64(b[j:])
		quote := x ^ (ones * '"')
		slash := x ^ (ones * '\\')
		// A byte is zero in quote or slash, or below 0x20 in x, exactly
		// when its high bit is set in special (the classic "has zero
		// byte" test, exact for bytes without their own high bit).
		special := ((quote - ones) &^ quote) | ((slash - ones) &^ slash) | ((x - ones*0x20) &^ x)
		if special &= highs; special != 0 {
			// The lowest flagged byte is a real one (a false flag needs
			// a borrow from a real one below it).
			return j + bits.TrailingZeros64(special)/8
		}
	}
	return j
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// validNumberEnd is the index after the number that starts at b[i], or -1:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumberEnd(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digitsEnd(b, i)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := digitsEnd(b, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digitsEnd(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func digitsEnd(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

func literalEnd(b []byte, i int, lit string) int {
	if !bytes.HasPrefix(b[i:], []byte(lit)) {
		return -1
	}
	return i + len(lit)
}
