package cli

import (
	"errors"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// argsRoot is a small command tree shaped like a dialect's.
type argsRoot struct {
	Globals
	Generate struct {
		ApplicationID []string `name:"application-id" ses:"app"`
		NotBefore     string
		TokenFile     string `short:"f"`
		Exit          bool
	} `cmd:""`
	ListCertificates struct {
		Show string `enum:"nonexpired,forsigning" default:"nonexpired"`
	} `cmd:"" name:"list-certificates"`
	Exec struct {
		App     string
		Command []string `arg:"" passthrough:""`
	} `cmd:""`
}

func argsModel(t *testing.T) *kong.Node {
	t.Helper()
	var root argsRoot
	k, err := kong.New(&root, kong.Exit(func(int) { t.Fatal("kong exited") }))
	if err != nil {
		t.Fatal(err)
	}
	return k.Model.Node
}

func TestReadArgsFold(t *testing.T) {
	node := argsModel(t)
	for _, tt := range []struct{ in, want string }{
		{"Generate --Application-Id a", "generate --application-id=a"},
		{"GENERATE --APPLICATION-ID=a,b", "generate --application-id=a,b"},
		{"generate --application-id a b c --exit", "generate --application-id=a --application-id=b --application-id=c --exit"},
		{"generate --not-before -1d -F t.txt", "generate --not-before=-1d --token-file=t.txt"},
		{"generate --EXIT --", "generate --exit --"},
		{"generate -- --Application-Id", "generate -- --Application-Id"},
		{"List-Certificates --Show FORSIGNING", "list-certificates --show=forsigning"},
		{"list-certificates --show=NonExpired --Log-Format JSON", "list-certificates --show=nonexpired --log-format=json"},
		{"list-certificates --show Other", "list-certificates --show=Other"},
		{"--LOG-LEVEL Warning generate --unknown x", "--log-level=Warning generate --unknown x"},
		{"nosuch --Help", "nosuch --help"},
	} {
		got, err := readArgs(node, strings.Fields(tt.in), true)
		if err != nil || strings.Join(got, " ") != tt.want {
			t.Errorf("readArgs(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestReadArgsExact(t *testing.T) {
	node := argsModel(t)
	for _, in := range []string{
		"Generate --Application-Id a",
		"generate --application-id a b",
		"generate --not-before=-1d -f t.txt",
		"exec --app a prog --app",
		"exec -- prog --not-before",
	} {
		got, err := readArgs(node, strings.Fields(in), false)
		if err != nil || strings.Join(got, " ") != in {
			t.Errorf("readArgs(%q) = %q, %v; want it as it is", in, got, err)
		}
	}
}

// TestReadArgsMissingValue: a flag that needs a value, given last without
// one, is an error naming the flag and what it takes.
func TestReadArgsMissingValue(t *testing.T) {
	node := argsModel(t)
	for in, flag := range map[string]string{
		"generate --not-before":          "--not-before needs a value (STRING)",
		"generate --application-id":      "--application-id needs a value (APPLICATION-ID,...)",
		"generate -f":                    "--token-file needs a value (STRING)",
		"--log-level":                    "--log-level needs a value (LEVEL)",
		"exec --app":                     "--app needs a value (STRING)",
		"list-certificates --Show":       "--show needs a value: one of nonexpired, forsigning",
		"generate --exit --not-before":   "--not-before needs a value (STRING)",
		"generate --application-id a -f": "--token-file needs a value (STRING)",
	} {
		for _, fold := range []bool{false, true} {
			if !fold && strings.Contains(in, "Show") {
				continue
			}
			_, err := readArgs(node, strings.Fields(in), fold)
			var ce *Error
			if !errors.As(err, &ce) || ce.Code != ExitUsage || err.Error() != flag {
				t.Errorf("readArgs(%q, fold %v): %v, want %q", in, fold, err, flag)
			}
		}
	}
}

// FuzzReadArgs checks that reading a command line never panics, and that
// a dialect's command line, once read, reads back as it is.
func FuzzReadArgs(f *testing.F) {
	for _, s := range []string{
		"Generate --Application-Id a b -F t.txt --", "list-certificates --show FORSIGNING",
		"generate --not-before", "exec --app a prog --x", "--log-level", "-", "--=x -=",
	} {
		f.Add(s)
	}
	var root argsRoot
	k, err := kong.New(&root, kong.Exit(func(int) {}))
	if err != nil {
		f.Fatal(err)
	}
	node := k.Model.Node
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, " ")
		if _, err := readArgs(node, args, false); err != nil && !strings.Contains(err.Error(), "needs a value") {
			t.Errorf("readArgs(%q): %v", args, err)
		}
		once, err := readArgs(node, args, true)
		if err != nil {
			return
		}
		twice, err := readArgs(node, once, true)
		if err != nil || strings.Join(twice, "\x00") != strings.Join(once, "\x00") {
			t.Errorf("readArgs(%q) = %q, which reads as %q, %v", args, once, twice, err)
		}
	})
}
