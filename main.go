// Command ses mints, serves, checks and explains Azure Batch software
// entitlement tokens. See README.md.
package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/alecthomas/kong"
	"github.com/seskit/ses/certs"
	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/client"
	"github.com/seskit/ses/server"
	"github.com/seskit/ses/token"
	"github.com/seskit/ses/tool"
	"github.com/seskit/ses/verify"
)

// Set by the release build with -ldflags "-X main.version=...".
var (
	version = ""
	commit  = ""
	date    = ""
)

// CLI is the root command: the global flags and one field per subcommand.
type CLI struct {
	cli.Globals

	Version kong.VersionFlag `help:"Print the version and exit."`

	Token  token.Cmd  `cmd:"" help:"Mint an entitlement token."`
	Verify verify.Cmd `cmd:"" help:"Explain offline why a token is or is not valid."`
	Certs  certs.Cmd  `cmd:"" help:"Development PKI and certificates by thumbprint."`
	Server server.Cmd `cmd:"" help:"Emulate the HTTPS entitlement endpoint."`
	Client client.Cmd `cmd:"" help:"Ask a server for an entitlement, as a Batch task does."`
}

func main() { os.Exit(run(os.Args[1:])) }

// run parses args, runs the chosen command and returns the exit code.
func run(args []string) (code int) {
	const prog = "ses"
	var root CLI
	root.Stdin, root.Stdout, root.Stderr = os.Stdin, os.Stdout, os.Stderr
	root.Getenv, root.Now = os.Getenv, time.Now

	exited := false
	parser, err := kong.New(&root,
		kong.Name(prog),
		kong.Description("ses: Azure Batch software entitlement tokens, emulator, client and certificates."),
		kong.UsageOnError(),
		kong.Vars{
			"version":             versionString(),
			"default_audience":    tool.DefaultAudience,
			"default_issuer":      tool.DefaultIssuer,
			"default_api_version": tool.DefaultAPIVersion,
		},
		kong.Exit(func(c int) { exited, code = true, c }),
		kong.Bind(&root.Globals),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	)
	if err != nil {
		panic(err) // the CLI struct itself is wrong: a programming error
	}
	kctx, err := parser.Parse(args)
	if exited {
		return code
	}
	if err != nil {
		cli.Report(os.Stderr, prog, err)
		return cli.ExitUsage
	}
	if root.LogLevel == "" {
		// The server's log is its output; other commands stay quiet.
		root.LogLevel = "warn"
		if strings.HasPrefix(kctx.Command(), "server") {
			root.LogLevel = "info"
		}
	}
	closeLog, err := root.SetupLog()
	if err != nil {
		cli.Report(os.Stderr, prog, err)
		return cli.CodeOf(err)
	}
	defer closeLog()
	if err := kctx.Run(); err != nil {
		cli.Report(os.Stderr, prog, err)
		return cli.CodeOf(err)
	}
	return cli.ExitOK
}

// versionString is the version, commit and date set at link time, else what
// the module's build information says.
func versionString() string {
	v, c, d := version, commit, date
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && c == "":
				c = s.Value
			case s.Key == "vcs.time" && d == "":
				d = s.Value
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	s := "ses " + v
	if c != "" {
		s += fmt.Sprintf(" (commit %s", c)
		if d != "" {
			s += ", built " + d
		}
		s += ")"
	}
	return s
}
