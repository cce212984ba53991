package tool

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// safe reports whether the character r, encoded in size bytes, may reach a
// terminal as it is: a printable character or the space. Control
// characters (C0, DEL, C1), format characters such as the bidirectional
// overrides, other spaces, unassigned code points and invalid UTF-8 may
// not: they can move the cursor, hide or reorder text, or forge lines.
func safe(r rune, size int) bool {
	return !(r == utf8.RuneError && size == 1) && strconv.IsPrint(r)
}

// Printable returns s with every character that may not reach a terminal
// as it is written as a Go escape: ESC is `\x1b`, a newline `\n`, U+202E
// `\u202e`, an invalid byte `\xff`. Everything ses prints that comes from
// outside (claims, certificate names, server answers, file names, request
// values in logs) goes through it; printable text, backslashes included,
// is left alone.
func Printable(s string) string {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !safe(r, size) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case safe(r, size):
			b.WriteString(s[i : i+size])
		case size == 1 && r == utf8.RuneError:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < utf8.RuneSelf:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
		i += size
	}
	return b.String()
}

// PrintableJSON returns the JSON text data with the characters Printable
// escapes written as JSON escapes (`\u009b`), so that it is the same JSON
// value and safe on a terminal. encoding/json already escapes C0 controls
// and invalid UTF-8 inside strings; this adds DEL, C1 and format
// characters. Outside strings JSON holds only printable ASCII and white
// space, which are kept.
func PrintableJSON(data []byte) []byte {
	i := 0
	for i < len(data) && data[i] < utf8.RuneSelf && data[i] != 0x7f {
		i++
	}
	if i == len(data) {
		return data
	}
	out := append([]byte(nil), data[:i]...)
	for i < len(data) {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r < utf8.RuneSelf && r != 0x7f, safe(r, size):
			out = append(out, data[i:i+size]...)
		case size == 1 && r == utf8.RuneError:
			out = append(out, `\ufffd`...)
		default:
			for _, u := range utf16.Encode([]rune{r}) {
				out = fmt.Appendf(out, `\u%04x`, u)
			}
		}
		i += size
	}
	return out
}
