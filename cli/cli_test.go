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
