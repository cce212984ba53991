package main

import (
	"os"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
	"github.com/seskit/ses/cli"
)

// TestCommandRoot checks which command lines get a root of their command
// alone.
func TestCommandRoot(t *testing.T) {
	for _, args := range [][]string{{"client"}, {"client", "check", "--url", "x"}, {"token", "--help"}, {"version"}} {
		if root, g, ok := commandRoot(args); !ok || root == nil || g == nil {
			t.Errorf("%q: no root of its own", args)
		}
	}
	for _, args := range [][]string{nil, {"help", "client"}, {"completion", "bash"}, {"--log-level", "debug", "client"}, {"clinet"}, {"Client"}} {
		if _, _, ok := commandRoot(args); ok {
			t.Errorf("%q: a root of its own, want the whole one", args)
		}
	}
	t.Setenv("COMP_LINE", "ses client ")
	if _, _, ok := commandRoot([]string{"client"}); ok {
		t.Error("a completion request got a root of its own")
	}
}

// TestCommandRootAnswersAlike runs the help and a usage error of every
// command and subcommand on the root of that command alone and on the
// whole one: what they print and their exit codes must be the same.
func TestCommandRootAnswersAlike(t *testing.T) {
	t.Setenv("SES_HOME", t.TempDir())
	var whole CLI
	app, err := kong.New(&whole, defaults)
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]string
	for _, cmd := range app.Model.Children {
		if _, _, ok := commandRoot([]string{cmd.Name}); !ok {
			continue
		}
		lines = append(lines, []string{cmd.Name, "--help"}, []string{cmd.Name, "--no-such-flag"})
		for _, sub := range cmd.Children {
			lines = append(lines, []string{cmd.Name, sub.Name, "--help"}, []string{cmd.Name, sub.Name, "--no-such-flag"})
		}
	}
	if len(lines) < 20 {
		t.Fatalf("only %d command lines to compare", len(lines))
	}
	for _, args := range lines {
		code, out, errs := captured(t, func() int {
			var ses CLI
			ses.Globals.Version = versionString()
			return cli.Execute("ses", &ses, &ses.Globals, args, defaults, kong.PostBuild(cli.RegisterCompletion))
		})
		rcode, rout, rerrs := captured(t, func() int { return run("ses", args) })
		if rcode != code || rout != out || rerrs != errs {
			t.Errorf("ses %s on its own root: exit %d\n%s%s\nwant exit %d\n%s%s", strings.Join(args, " "), rcode, rout, rerrs, code, out, errs)
		}
	}
}

// captured runs f with its standard output and error going to files, and
// returns its exit code and what it wrote to each.
func captured(t *testing.T, f func() int) (code int, stdout, stderr string) {
	t.Helper()
	dir := t.TempDir()
	out, err := os.Create(dir + "/stdout")
	if err != nil {
		t.Fatal(err)
	}
	errs, err := os.Create(dir + "/stderr")
	if err != nil {
		t.Fatal(err)
	}
	saved, savedErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = out, errs
	code = f()
	os.Stdout, os.Stderr = saved, savedErr
	out.Close()
	errs.Close()
	o, _ := os.ReadFile(dir + "/stdout")
	e, _ := os.ReadFile(dir + "/stderr")
	return code, string(o), string(e)
}

// BenchmarkCommandRoot builds kong's parser of `ses client` alone, as a
// short command's start-up does, beside the parser of the whole tree (the
// baseline), which help and completion build.
func BenchmarkCommandRoot(b *testing.B) {
	b.Run("whole", func(b *testing.B) {
		for b.Loop() {
			var ses CLI
			if _, err := kong.New(&ses, defaults, kong.PostBuild(cli.RegisterCompletion)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("client", func(b *testing.B) {
		for b.Loop() {
			root, _, ok := commandRoot([]string{"client"})
			if !ok {
				b.Fatal("no root of its own for ses client")
			}
			if _, err := kong.New(root, defaults); err != nil {
				b.Fatal(err)
			}
		}
	})
}
