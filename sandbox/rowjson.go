package sandbox

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// rowJSON appends one JSON object member by member. The emulator renders
// every row of every page it serves, and rendering them as maps through
// encoding/json (which sorts each map's keys and re-validates embedded
// JSON) cost about 56 µs a row: on a machine shared with the product, the
// emulator's CPU is taken from the product's, though Belvo's rendering
// happens on Belvo's machines. Values are written as encoding/json would
// write them, except that '<', '>' and '&' are not HTML-escaped, as
// Belvo's API does not.
type rowJSON struct {
	b []byte
}

// open starts the object, or a nested object under key k when k != "".
func (w *rowJSON) open(k string) {
	if k != "" {
		w.key(k)
	}
	w.b = append(w.b, '{')
}

// close ends the innermost open object.
func (w *rowJSON) close() { w.b = append(w.b, '}') }

// key writes a member's name, after a comma unless it is the object's
// first. Names are the emulator's own constants, plain ASCII, so they are
// written without escaping.
func (w *rowJSON) key(k string) {
	if n := len(w.b); n > 0 && w.b[n-1] != '{' {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

func (w *rowJSON) str(k, v string) {
	w.key(k)
	w.b = appendJSONString(w.b, v)
}

// num writes a float as encoding/json does for the emulator's magnitudes
// (amounts and balances, never below 1e-6 nor from 1e21 on).
func (w *rowJSON) num(k string, v float64) {
	w.key(k)
	w.b = strconv.AppendFloat(w.b, v, 'f', -1, 64)
}

func (w *rowJSON) null(k string) {
	w.key(k)
	w.b = append(w.b, "null"...)
}

// raw writes JSON that is already encoded (an embedded object).
func (w *rowJSON) raw(k string, v []byte) {
	w.key(k)
	w.b = append(w.b, v...)
}

// stamp writes a timestamp in Belvo's millisecond form (see ts).
func (w *rowJSON) stamp(k string, t time.Time) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = t.UTC().AppendFormat(w.b, stampLayout)
	w.b = append(w.b, '"')
}

// date writes a day as YYYY-MM-DD.
func (w *rowJSON) date(k string, t time.Time) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = t.AppendFormat(w.b, time.DateOnly)
	w.b = append(w.b, '"')
}

// padded writes n as a string of at least width digits, with a prefix and
// a suffix: fmt's "%s%0*d%s" without fmt.
func (w *rowJSON) padded(k, prefix string, n int64, width int, suffix string) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = append(w.b, prefix...)
	for d := digits(n); d < width; d++ {
		w.b = append(w.b, '0')
	}
	w.b = strconv.AppendInt(w.b, n, 10)
	w.b = append(w.b, suffix...)
	w.b = append(w.b, '"')
}

// digits is how many decimal digits n >= 0 has.
func digits(n int64) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped as encoding/json escapes them, invalid UTF-8
// replaced by U+FFFD, and U+2028 and U+2029 escaped (JavaScript line ends).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
