package cli

import (
	"os"
	"strings"
	"time"

	"github.com/alecthomas/kong"
)

// Execute runs one kong root, root being a pointer to a struct that embeds
// g, on args, and returns the process's exit code. Usage errors exit 2 and
// errors from commands with their code (CodeOf), both reported as
// "prog: error: ..." with their hints. Every root reads durations with
// DurationMapper, and a command's Run may ask for *Globals or, opened on
// first use, *tool.Store. options add to kong's (kong.Vars for the tags'
// ${...}, for instance).
func Execute(prog string, root any, g *Globals, args []string, options ...kong.Option) (code int) {
	g.Stdin, g.Stdout, g.Stderr = os.Stdin, os.Stdout, os.Stderr
	g.Getenv, g.Now = os.Getenv, time.Now
	g.Prog = prog

	exited := false
	parser, err := kong.New(root, append([]kong.Option{
		kong.Name(prog),
		kong.Description(prog + ": Azure Batch software entitlement tokens, emulator, client and certificates."),
		kong.UsageOnError(),
		kong.Vars{"version": g.Version},
		DurationMapper,
		kong.Exit(func(c int) { exited, code = true, c }),
		kong.Bind(g),
		kong.BindToProvider(g.OpenStore),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	}, options...)...)
	if err != nil {
		panic(err) // the root struct itself is wrong: a programming error
	}
	kctx, err := parser.Parse(args)
	if exited {
		return code
	}
	if err != nil {
		PrintError(os.Stderr, prog, err)
		return ExitUsage
	}
	if g.LogLevel == "" {
		// The server's log is its output; other commands stay quiet.
		g.LogLevel = "warn"
		if strings.HasPrefix(kctx.Command(), "server") {
			g.LogLevel = "info"
		}
	}
	closeLog, err := g.SetupLog()
	if err != nil {
		PrintError(os.Stderr, prog, err)
		return CodeOf(err)
	}
	defer closeLog()
	if err := kctx.Run(); err != nil {
		PrintError(os.Stderr, prog, err)
		return CodeOf(err)
	}
	return ExitOK
}
