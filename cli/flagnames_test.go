package cli

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/alecthomas/kong"
)

// TestFlagNames: a dialect's messages name its own flags (a ses flag it
// stands for renamed), and a hint naming a flag it lacks is not shown.
func TestFlagNames(t *testing.T) {
	var root argsRoot
	k, err := kong.New(&root, kong.Exit(func(int) { t.Fatal("kong exited") }))
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := k.Parse([]string{"generate"})
	if err != nil {
		t.Fatal(err)
	}
	names := flagNamesOf(ctx.Flags())
	err = errors.Join(
		Usagef("no application given").Hint("name it with --app, e.g. --app contosoapp").Hint("or set --lifetime"),
		fmt.Errorf("wrapped: %w", &Error{Code: ExitUntrusted, Err: errors.New("--app x refused"),
			Hints: []string{"use --dev, or --allow-host SUFFIX", "see `ses certs chain --pins FILE`", "--token-file names it"}}),
	)
	var b bytes.Buffer
	renamed := names.apply(err)
	PrintError(&b, "sestest", renamed)
	want := "sestest: error: no application given\n" +
		"sestest: hint: name it with --application-id, e.g. --application-id contosoapp\n" +
		"sestest: error: wrapped: --application-id x refused\n" +
		"sestest: hint: see `ses certs chain --pins FILE`\n" +
		"sestest: hint: --token-file names it\n"
	if b.String() != want {
		t.Errorf("printed\n%s\nwant\n%s", b.String(), want)
	}
	if CodeOf(renamed) != ExitUsage {
		t.Errorf("exit %d, want the first error's, %d", CodeOf(renamed), ExitUsage)
	}
	if c := CodeOf(names.apply(ExitCode(7))); c != 7 {
		t.Errorf("a silent exit became exit %d", c)
	}
	b.Reset()
	PrintError(&b, "sestest", names.apply(ExitCode(7)))
	if b.Len() != 0 {
		t.Errorf("a silent exit printed %q", b.String())
	}
}

func TestHelpValue(t *testing.T) {
	var root struct {
		App     []string `aliases:"application-id,app-id" help:"Application."`
		Retries int      `default:"5" help:"Retries."`
		Sign    string   `default:"dev" help:"Certificate (default: dev)."`
		Plain   string   `help:"Nothing to add."`
		Env     string   `default:"x" env:"SES_X" help:"From the environment"`
	}
	k, err := kong.New(&root)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"app":     "Application (alias: --application-id, --app-id).",
		"retries": "Retries (default: 5).",
		"sign":    "Certificate (default: dev).",
		"plain":   "Nothing to add.",
		"env":     "From the environment ($SES_X) (default: x)",
	}
	for _, f := range k.Model.Flags {
		if w, ok := want[f.Name]; ok && helpValue(f.Value) != w {
			t.Errorf("--%s: %q, want %q", f.Name, helpValue(f.Value), w)
		}
	}
}
