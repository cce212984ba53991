// Command ses mints, serves, checks and explains Azure Batch software
// entitlement tokens. See README.md.
//
// Run under the name sestest or sesclient (a link or a copy), it speaks the
// reference tools' dialects instead.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/alecthomas/kong"
	kongcompletion "github.com/jotaen/kong-completion"
	"github.com/seskit/ses/certs"
	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/client"
	"github.com/seskit/ses/compat"
	"github.com/seskit/ses/namespace"
	"github.com/seskit/ses/server"
	"github.com/seskit/ses/server/acs"
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

	Token      token.Cmd                 `cmd:"" help:"Mint an entitlement token (its flags: ses token entitlement --help)."`
	Verify     verify.Cmd                `cmd:"" help:"Explain offline why a token is or is not valid."`
	Certs      certs.Cmd                 `cmd:"" help:"Development PKI and certificates by thumbprint."`
	Server     server.Cmd                `cmd:"" help:"Emulate the HTTPS entitlement endpoint."`
	Client     client.Cmd                `cmd:"" help:"Ask a server for an entitlement, as a Batch task does (its flags: ses client check --help)."`
	Namespace  namespace.Cmd             `cmd:"" help:"Manage the service namespace ses server --acs reads, and map claims as its issuer does."`
	Links      LinksCmd                  `cmd:"" help:"Create sestest and sesclient links to this binary in a folder."`
	Completion kongcompletion.Completion `cmd:"" help:"Print shell completion code: ses completion bash|zsh|fish."`
}

func main() { os.Exit(run(filepath.Base(os.Args[0]), os.Args[1:])) }

// dialect maps the name the binary runs under to its dialect.
func dialect(name string) string {
	name = strings.ToLower(strings.TrimSuffix(strings.ToLower(name), ".exe"))
	switch name {
	case "sestest":
		return "sestest"
	case "sesclient", "sesclient.native":
		return "sesclient"
	}
	return "ses"
}

// run parses args in the dialect of name, runs the command and returns the
// exit code.
func run(name string, args []string) int {
	switch dialect(name) {
	case "sestest":
		var root compat.Sestest
		return execute("sestest", &root, &root.Globals, args)
	case "sesclient":
		var root compat.Sesclient
		return execute("sesclient", &root, &root.Globals, args)
	}
	var root CLI
	return execute("ses", &root, &root.Globals, args)
}

// execute runs one kong root: usage errors exit 2, errors from commands exit
// with their code, and both are reported as "prog: error: ..." with hints.
func execute(prog string, root any, g *cli.Globals, args []string) (code int) {
	g.Stdin, g.Stdout, g.Stderr = os.Stdin, os.Stdout, os.Stderr
	g.Getenv, g.Now, g.Version = os.Getenv, time.Now, versionString()

	exited := false
	parser, err := kong.New(root,
		kong.Name(prog),
		kong.Description(prog+": Azure Batch software entitlement tokens, emulator, client and certificates."),
		kong.UsageOnError(),
		kong.Vars{
			"version":               g.Version,
			"default_audience":      tool.DefaultAudience,
			"default_issuer":        tool.DefaultIssuer,
			"default_api_version":   tool.DefaultAPIVersion,
			"default_max_lease":     server.DefaultMaxLease.String(),
			"default_retries":       fmt.Sprint(client.DefaultRetries),
			"default_timeout":       client.DefaultTimeout.String(),
			"default_namespace_url": acs.DefaultNamespaceURL,
		},
		kong.Exit(func(c int) { exited, code = true, c }),
		kong.Bind(g),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	)
	if err != nil {
		panic(err) // the CLI struct itself is wrong: a programming error
	}
	if prog == "ses" {
		kongcompletion.Register(parser)
	}
	kctx, err := parser.Parse(args)
	if exited {
		return code
	}
	if err != nil {
		cli.Report(os.Stderr, prog, err)
		return cli.ExitUsage
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
