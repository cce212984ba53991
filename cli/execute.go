package cli

import (
	"errors"
	"os"
	"strings"
	"time"

	"github.com/alecthomas/kong"
)

// Execute runs one kong root, root being a pointer to a struct that embeds
// g, on args, and returns the process's exit code. Usage errors exit 2 and
// errors from commands with their code (CodeOf), both reported as
// "prog: error: ..." with their hints. Every root reads durations with
// DurationMapper, shows each flag's default and aliases in its help and the
// global flags after the command's own, and a command's Run may ask for
// *Globals or, opened on first use, *tool.Store. No arguments at all print
// the help, the list of commands. A root that is a Dialect has its command
// line read as the reference's parser read it. options add to kong's
// (Vars for the tags' ${...}, for instance). Everything is written to
// g.Stdout and g.Stderr, the process's unless the caller set them; the
// command reads the process's standard input, environment and clock.
func Execute(prog string, root any, g *Globals, args []string, options ...kong.Option) (code int) {
	g.Stdin, g.Getenv, g.Now = os.Stdin, os.Getenv, time.Now
	if g.Stdout == nil {
		g.Stdout = os.Stdout
	}
	if g.Stderr == nil {
		g.Stderr = os.Stderr
	}
	g.Prog = prog
	dialect, isDialect := root.(Dialect)
	if isDialect {
		options = append(options, kong.Vars{"default_log_level": dialect.DefaultLogLevel()})
	}

	exited := false
	parser, err := kong.New(root, append([]kong.Option{
		kong.Name(prog),
		kong.Description(prog + ": Azure Batch software entitlement tokens, emulator, client and certificates."),
		kong.Writers(g.Stdout, g.Stderr),
		kong.Vars{"version": g.Version}, // what --version prints
		DurationMapper,
		kong.Exit(func(c int) { exited, code = true, c }),
		kong.Bind(g),
		kong.BindToProvider(g.checkedStore),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.ValueFormatter(helpValue),
		kong.ExplicitGroups([]kong.Group{globalGroup}),
	}, options...)...)
	if err != nil {
		panic(err) // the root struct itself is wrong: a programming error
	}
	if exited {
		return code // a completion request, answered while kong was set up
	}
	if parser.Model.HelpFlag != nil {
		parser.Model.HelpFlag.Group = &globalGroup
	}
	// No arguments at all: the help. In a dialect it is a usage error, as
	// the reference tools made it.
	bare := len(args) == 0
	if bare {
		args = []string{"--help"}
		if isDialect {
			parser.Stdout = g.Stderr
		}
	}
	args, argErr := readArgs(parser.Model.Node, args, isDialect)
	kctx, err := parser.Parse(args)
	if exited {
		if bare && isDialect {
			return ExitUsage
		}
		return code
	}
	if err != nil || argErr != nil {
		var pe *kong.ParseError
		errors.As(err, &pe)
		if argErr != nil {
			err = argErr
		}
		PrintError(g.Stderr, prog, err)
		if isDialect && pe != nil {
			// The reference's parser showed the usage after a usage error.
			parser.Stdout = g.Stderr
			pe.Context.PrintUsage(false)
		}
		return ExitUsage
	}
	if g.LogLevel == "" {
		// The server's log is its output; other commands stay quiet.
		g.LogLevel = "warn"
		if strings.HasPrefix(kctx.Command(), "server") {
			g.LogLevel = "info"
		}
		if isDialect {
			g.LogLevel = dialect.DefaultLogLevel()
		}
	}
	closeLog, err := g.SetupLog()
	if err != nil {
		PrintError(g.Stderr, prog, err)
		return CodeOf(err)
	}
	defer closeLog()
	if err := kctx.Run(); err != nil {
		code := CodeOf(err)
		if isDialect {
			err = flagNamesOf(kctx.Flags()).apply(err)
		}
		PrintError(g.Stderr, prog, err)
		return code
	}
	return ExitOK
}
