package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestList(t *testing.T) {
	got := List([]string{" contosoapp, ContosoApp ,", "other", "", "b,a"})
	if strings.Join(got, "|") != "contosoapp|other|b|a" {
		t.Errorf("List = %q", got)
	}
	if List(nil) != nil {
		t.Error("List(nil) is not empty")
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]zerolog.Level{
		"debug": zerolog.DebugLevel, "Information": zerolog.InfoLevel, "info": zerolog.InfoLevel,
		"WARNING": zerolog.WarnLevel, "warn": zerolog.WarnLevel, "error": zerolog.ErrorLevel,
	} {
		if got, err := ParseLevel(in); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseLevel("loud"); err == nil {
		t.Error("ParseLevel(loud) succeeded")
	}
}

func TestPrintErrorAndCodes(t *testing.T) {
	var b bytes.Buffer
	err := Usagef("bad %s", "thing").Hint("try --other")
	PrintError(&b, "ses", err)
	if b.String() != "ses: error: bad thing\nses: hint: try --other\n" {
		t.Errorf("report %q", b.String())
	}
	if CodeOf(err) != ExitUsage || CodeOf(nil) != ExitOK || CodeOf(errors.New("x")) != ExitUsage {
		t.Error("exit codes")
	}
	if CodeOf(WithCode(ExitUntrusted, err)) != ExitUntrusted {
		t.Error("WithCode lost its code")
	}
	b.Reset()
	PrintError(&b, "ses", ExitCode(7))
	if b.Len() != 0 || CodeOf(ExitCode(7)) != 7 {
		t.Errorf("a silent exit printed %q", b.String())
	}
}

func TestCleanToken(t *testing.T) {
	const tok = "eyJhbGciOiJub25lIn0.eyJpZCI6IngifQ."
	utf16 := func(bom []byte, le bool, s string) []byte {
		b := append([]byte{}, bom...)
		for _, r := range s {
			if le {
				b = append(b, byte(r), 0)
			} else {
				b = append(b, 0, byte(r))
			}
		}
		return b
	}
	tests := []struct {
		name string
		in   []byte
		want string
		bad  bool
	}{
		{name: "plain", in: []byte(tok), want: tok},
		{name: "newline", in: []byte(tok + "\n"), want: tok},
		{name: "CRLF", in: []byte(tok + "\r\n"), want: tok},
		{name: "UTF-8 BOM", in: []byte("\ufeff" + tok + "\r\n"), want: tok},
		{name: "UTF-16 LE (Notepad, PowerShell)", in: utf16([]byte{0xff, 0xfe}, true, tok+"\r\n"), want: tok},
		{name: "UTF-16 BE", in: utf16([]byte{0xfe, 0xff}, false, tok+"\r\n"), want: tok},
		{name: "double quotes", in: []byte(`"` + tok + `"` + "\r\n"), want: tok},
		{name: "single quotes, spaces inside", in: []byte("' " + tok + " '"), want: tok},
		{name: "UTF-16 quoted", in: utf16([]byte{0xff, 0xfe}, true, `"`+tok+`"`), want: tok},
		{name: "one quote only", in: []byte(`"` + tok), want: `"` + tok},
		{name: "mismatched quotes", in: []byte(`"` + tok + `'`), want: `"` + tok + `'`},
		{name: "a lone quote", in: []byte(`"`), want: `"`},
		{name: "UTF-16 odd length", in: append(utf16([]byte{0xff, 0xfe}, true, tok), 'x'), bad: true},
		{name: "empty quotes", in: []byte(`""`), want: ""},
	}
	for _, tt := range tests {
		got, err := CleanToken(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("%s: got %q, want an error", tt.name, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: got %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func FuzzCleanToken(f *testing.F) {
	f.Add([]byte("\ufeff\"eyJ.e30.\"\r\n"), "eyJ.e30.", uint8(0))
	f.Add([]byte{0xff, 0xfe, 'a', 0, 'b', 0}, "a.b.c", uint8(5))
	f.Add([]byte{0xfe, 0xff, 0, 'a'}, "x", uint8(255))
	f.Fuzz(func(t *testing.T, raw []byte, tok string, deco uint8) {
		// Anything: no panic, nothing around what is returned.
		if got, err := CleanToken(raw); err == nil && got != strings.TrimSpace(got) {
			t.Fatalf("%q -> %q, with white space around it", raw, got)
		}
		// A token, however it was saved, comes back as it was.
		if tok == "" || strings.Trim(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") != "" {
			return
		}
		saved := tok
		if deco&1 != 0 {
			saved = `"` + saved + `"`
		}
		if deco&2 != 0 {
			saved += "\r\n"
		}
		var b []byte
		switch deco >> 2 % 4 {
		case 0:
			b = []byte(saved)
		case 1:
			b = []byte("\ufeff" + saved)
		case 2, 3:
			b = []byte{0xff, 0xfe}
			for _, r := range saved {
				b = append(b, byte(r), 0)
			}
			if deco>>2%4 == 3 {
				b[0], b[1] = 0xfe, 0xff
				for i := 2; i < len(b); i += 2 {
					b[i], b[i+1] = b[i+1], b[i]
				}
			}
		}
		if got, err := CleanToken(b); err != nil || got != tok {
			t.Fatalf("%q saved as %q: got %q, %v", tok, b, got, err)
		}
	})
}

// TestPrintErrorEscapes: a message or hint carrying outside data (a
// certificate name, a claim) cannot drive the terminal or forge a line.
func TestPrintErrorEscapes(t *testing.T) {
	var b bytes.Buffer
	PrintError(&b, "ses", Usagef("name \x1b[2K\rpass\nses: entitled").Hint("see \u009b31m"))
	want := "ses: error: name \\x1b[2K\\rpass\\nses: entitled\nses: hint: see \\u009b31m\n"
	if b.String() != want {
		t.Errorf("report %q, want %q", b.String(), want)
	}
}

// TestLogEscapes: log lines of outside values, in both formats, carry no
// character a terminal would act on.
func TestLogEscapes(t *testing.T) {
	for _, format := range []string{"console", "json"} {
		var b bytes.Buffer
		g := &Globals{LogLevel: "info", LogFormat: format, Stderr: &b}
		closeLog, err := g.SetupLog()
		if err != nil {
			t.Fatal(err)
		}
		g.Log.Info().Str("path", "/a\x1b[2J").Strs("reasons", []string{"r\u009b1m"}).
			Err(errors.New("e\x1b[31m")).Msg("http: TLS handshake error: \x1b]0;title\x07")
		closeLog()
		out := b.String()
		for _, bad := range []string{"\x1b", "\x07", "\u009b"} {
			if strings.Contains(out, bad) {
				t.Errorf("%s: %q reached the log: %q", format, bad, out)
			}
		}
		if format == "console" && (!strings.Contains(out, `handshake error: \x1b]0;title\x07`) ||
			!strings.Contains(out, `path="/a\x1b[2J"`) || !strings.Contains(out, `reasons=["r\u009b1m"]`)) {
			t.Errorf("console: the message or values are not escaped as they should be: %q", out)
		}
		if format == "json" {
			var m map[string]any
			if err := json.Unmarshal([]byte(out), &m); err != nil || m["path"] != "/a\x1b[2J" {
				t.Errorf("json: %v, %q", err, m)
			}
		}
	}
}
