package main

import (
	"bytes"
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
// whole one: what they print and their exit codes must be the same. It
// runs beside the scripts.
func TestCommandRootAnswersAlike(t *testing.T) {
	t.Parallel()
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
		var out, errs, rout, rerrs bytes.Buffer
		var ses CLI
		ses.Globals.Stdout, ses.Globals.Stderr, ses.Globals.Version = &out, &errs, versionString()
		code := cli.Execute("ses", &ses, &ses.Globals, args, cli.Vars(defaults), kong.PostBuild(cli.RegisterCompletion))
		rcode := run("ses", args, &rout, &rerrs)
		if rcode != code || rout.String() != out.String() || rerrs.String() != errs.String() {
			t.Errorf("ses %s on its own root: exit %d\n%s%s\nwant exit %d\n%s%s", strings.Join(args, " "), rcode, &rout, &rerrs, code, &out, &errs)
		}
	}
}

// TestVarsAsKong checks that cli.Vars puts the defaults where kong.Vars
// would: every string kong interpolates, in every command, flag and
// argument of the whole tree, is the same.
func TestVarsAsKong(t *testing.T) {
	texts := func(vars kong.Option) []string {
		var ses CLI
		app, err := kong.New(&ses, vars)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		kong.Visit(app.Model.Node, func(n kong.Visitable, next kong.Next) error {
			switch n := n.(type) {
			case *kong.Node:
				out = append(out, n.Path(), n.Help)
			case *kong.Value:
				out = append(out, n.Summary(), n.Default, n.Enum, n.Help, strings.Join(n.Tag.Envs, ","))
				if n.Flag != nil {
					out = append(out, n.Flag.PlaceHolder)
				}
			}
			return next(nil)
		})
		return out
	}
	want, got := texts(defaults), texts(cli.Vars(defaults))
	if len(got) != len(want) {
		t.Fatalf("%d texts with cli.Vars, %d with kong.Vars", len(got), len(want))
	}
	interpolated := 0
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("with cli.Vars: %q\nwith kong.Vars: %q", got[i], want[i])
		}
		for _, v := range defaults {
			if strings.Contains(want[i], v) {
				interpolated++
				break
			}
		}
	}
	if interpolated < len(defaults) {
		t.Errorf("only %d texts hold a default's value", interpolated)
	}
}

// BenchmarkParser builds the parser of the whole command tree, as help and
// completion do, with the tags' variables given to kong (the baseline) and
// put in place by cli.Vars.
func BenchmarkParser(b *testing.B) {
	for _, c := range []struct {
		name string
		vars kong.Option
	}{{"kong.Vars", defaults}, {"cli.Vars", cli.Vars(defaults)}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var ses CLI
				if _, err := kong.New(&ses, c.vars); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
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
