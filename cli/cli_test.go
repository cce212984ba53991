package cli

import (
	"bytes"
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
