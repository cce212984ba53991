package main

import (
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/seskit/ses/cli"
)

// TestResultCodes keeps the ses_result enum of ses.h equal to the exit
// codes of cli, where they are defined: a C caller's result means what the
// same failure of `ses client` exits with.
func TestResultCodes(t *testing.T) {
	want := map[string]int{
		"SES_OK":            cli.ExitOK,
		"SES_DENIED":        cli.ExitNo,
		"SES_BAD_ARGUMENTS": cli.ExitUsage,
		"SES_UNTRUSTED":     cli.ExitUntrusted,
		"SES_UNREACHABLE":   cli.ExitUnreachable,
		"SES_UNEXPECTED":    cli.ExitProtocol,
	}
	header, err := os.ReadFile("include/ses.h")
	if err != nil {
		t.Fatal(err)
	}
	enum := regexp.MustCompile(`(?s)typedef enum ses_result \{(.*?)\} ses_result;`).FindSubmatch(header)
	if enum == nil {
		t.Fatal("ses.h has no ses_result enum")
	}
	got := map[string]int{}
	for _, m := range regexp.MustCompile(`(SES_[A-Z_]+)\s*=\s*(\d+)`).FindAllSubmatch(enum[1], -1) {
		v, _ := strconv.Atoi(string(m[2]))
		got[string(m[1])] = v
	}
	for name, code := range want {
		if v, ok := got[name]; !ok || v != code {
			t.Errorf("ses.h: %s = %d (present: %v), want %d as in cli", name, v, ok, code)
		}
	}
	if len(got) != len(want) {
		t.Errorf("ses.h's enum has %d values %v, want the %d exit codes", len(got), got, len(want))
	}
}
