package tool

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"contosoapp":              "contosoapp",
		`C:\Users\me`:             `C:\Users\me`,
		"Grüße, 日本":               "Grüße, 日本",
		"\x1b[2K\rpass":           `\x1b[2K\rpass`,
		"a\nses: pass":            `a\nses: pass`,
		"tab\there":               `tab\there`,
		"del\x7f":                 `del\x7f`,
		"csi\u009b31m":            `csi\u009b31m`,
		"bidi\u202eevil":          `bidi\u202eevil`,
		"bad\xffbyte":             `bad\xffbyte`,
		"nbsp\u00a0":              `nbsp\u00a0`,
		"tag\U000E0041":           `tag\U000e0041`,
		"\ufffd is a replacement": "\ufffd is a replacement",
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPrintableJSON(t *testing.T) {
	in := map[string]string{"app": "a\x1b[31m\u009b\u202e\x7fb", "ok": "Grüße \\ \"q\""}
	raw, _ := json.MarshalIndent(in, "", "  ")
	got := PrintableJSON(raw)
	var back map[string]string
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatalf("not JSON any more: %v\n%s", err, got)
	}
	if back["app"] != in["app"] || back["ok"] != in["ok"] {
		t.Errorf("the value changed: %q", back)
	}
	for _, r := range string(got) {
		if r != '\n' && !safe(r, utf8.RuneLen(r)) {
			t.Errorf("%q left in %s", r, got)
		}
	}
	if string(PrintableJSON([]byte(`{"a":"b"}`))) != `{"a":"b"}` {
		t.Error("plain JSON changed")
	}
}

func FuzzPrintable(f *testing.F) {
	for _, s := range []string{"plain", "\x1b]0;title\x07", "\u202e", "\xff\xfe", "a\nb", `\x1b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := Printable(s)
		for i := 0; i < len(p); {
			r, size := utf8.DecodeRuneInString(p[i:])
			if !safe(r, size) {
				t.Fatalf("Printable(%q) = %q keeps %q", s, p, r)
			}
			i += size
		}
		allSafe := true
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			allSafe = allSafe && safe(r, size)
			i += size
		}
		if allSafe != (p == s) {
			t.Fatalf("Printable(%q) = %q: printable text must be kept, anything else changed", s, p)
		}
		// The JSON form of s, made safe, is still s.
		raw, _ := json.Marshal(s)
		safeJSON := PrintableJSON(raw)
		var back string
		if err := json.Unmarshal(safeJSON, &back); err != nil || back != jsonRoundTrip(s) {
			t.Fatalf("PrintableJSON changed %q to %q (%v)", s, back, err)
		}
		if Printable(string(safeJSON)) != string(safeJSON) {
			t.Fatalf("PrintableJSON(%s) = %s is not printable", raw, safeJSON)
		}
	})
}

// jsonRoundTrip is s as encoding/json gives it back: invalid UTF-8 becomes
// U+FFFD.
func jsonRoundTrip(s string) string {
	raw, _ := json.Marshal(s)
	var back string
	json.Unmarshal(raw, &back)
	return back
}
