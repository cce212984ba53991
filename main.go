// Command ses mints, serves, checks and explains Azure Batch software
// entitlement tokens. See README.md and ARCHITECTURE.md.
//
// Run under the name sestest or sesclient (a link or a copy), it speaks the
// reference tools' dialects instead (package compat).
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"

	"github.com/alecthomas/kong"
	"github.com/seskit/ses/certs"
	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/client"
	"github.com/seskit/ses/clientcmd"
	"github.com/seskit/ses/compat"
	"github.com/seskit/ses/namespace"
	"github.com/seskit/ses/server"
	"github.com/seskit/ses/server/acs"
	"github.com/seskit/ses/token"
	"github.com/seskit/ses/tool"
	"github.com/seskit/ses/usage"
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

	Version kong.VersionFlag `help:"Print the version and exit." group:"global"`

	Token      token.Cmd         `cmd:"" help:"Mint an entitlement token (its flags: ses token entitlement --help)."`
	Verify     verify.Cmd        `cmd:"" help:"Explain offline why a token is or is not valid."`
	Certs      certs.Cmd         `cmd:"" help:"Development PKI and certificates by thumbprint."`
	Server     server.Cmd        `cmd:"" help:"Emulate the HTTPS entitlement endpoint."`
	Client     clientcmd.Cmd     `cmd:"" help:"Ask a server for an entitlement, as a Batch task does (its flags: ses client check --help)."`
	Namespace  namespace.Cmd     `cmd:"" help:"Manage the service namespace ses server --acs reads, and map claims as its issuer does."`
	Usage      usage.Cmd         `cmd:"" help:"The usage record of ses server: a summary per application, or its CSV or JSON."`
	Links      compat.LinksCmd   `cmd:"" help:"Create sestest and sesclient links to this binary in a folder."`
	Completion cli.CompletionCmd `cmd:"" help:"Print shell completion code: ses completion bash|zsh|fish|powershell."`
	Help       cli.HelpCmd       `cmd:"" help:"Show the help of ses or of a command: ses help certs create."`
	VersionCmd cli.VersionCmd    `cmd:"" name:"version" help:"Print the version."`
}

func main() { os.Exit(run(filepath.Base(os.Args[0]), os.Args[1:], os.Stdout, os.Stderr)) }

// run runs args as the binary named name (ses, or a dialect), writing to
// stdout and stderr, and returns the exit code.
func run(name string, args []string, stdout, stderr io.Writer) int {
	options := []kong.Option{cli.Vars(defaults)}
	prog, root, g := compat.Root(name)
	if root == nil {
		var ok bool
		prog = "ses"
		if root, g, ok = commandRoot(args); !ok {
			var ses CLI
			root, g = &ses, &ses.Globals
			options = append(options, kong.PostBuild(cli.RegisterCompletion))
		}
	}
	g.Stdout, g.Stderr, g.Version = stdout, stderr, versionString()
	return cli.Execute(prog, root, g, args, options...)
}

// commandRoot is, for `ses COMMAND ...`, a root of CLI's global flags and
// that command alone: kong takes most of a short command's start-up
// building the whole tree (for ses client, about 15 ms of 20), and a
// command's parsing, help and errors need only its own. It is not for help
// and completion, which show the others, nor for a shell asking for
// completions ($COMP_LINE); ok is false then, and when args name no
// command.
func commandRoot(args []string) (root any, g *cli.Globals, ok bool) {
	if len(args) == 0 || os.Getenv("COMP_LINE") != "" {
		return nil, nil, false
	}
	t := reflect.TypeFor[CLI]()
	var fields []reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		if _, isCmd := f.Tag.Lookup("cmd"); !isCmd {
			fields = append(fields, f)
			continue
		}
		name := f.Tag.Get("name")
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if name == args[0] && f.Type != reflect.TypeFor[cli.HelpCmd]() && f.Type != reflect.TypeFor[cli.CompletionCmd]() {
			fields, ok = append(fields, f), true
		}
	}
	if !ok {
		return nil, nil, false
	}
	// The embedded Globals stays the first field, where StructOf keeps its
	// methods.
	v := reflect.New(reflect.StructOf(fields))
	return v.Interface(), v.Elem().Field(0).Addr().Interface().(*cli.Globals), true
}

// defaults are the values the flags' tags show as ${default_...}, each
// from where it is defined.
var defaults = kong.Vars{
	"default_audience":             tool.DefaultAudience,
	"default_issuer":               tool.DefaultIssuer,
	"default_api_version":          tool.DefaultAPIVersion,
	"default_ref_api":              compat.ReferenceAPIVersion,
	"default_lifetime":             tool.FormatDuration(tool.DefaultLifetime),
	"default_swt_lifetime":         tool.FormatDuration(token.DefaultSWTLifetime),
	"default_max_lease":            tool.FormatDuration(server.DefaultMaxLease),
	"default_max_leases_per_token": fmt.Sprint(server.DefaultMaxLeasesPerToken),
	"default_usage_records":        fmt.Sprint(server.DefaultUsageRecords),
	"default_usage_keep":           fmt.Sprint(server.DefaultUsageKeep),
	"default_usage_timeout":        tool.FormatDuration(usage.DefaultTimeout),
	"default_retries":              fmt.Sprint(client.DefaultRetries),
	"default_timeout":              tool.FormatDuration(client.DefaultTimeout),
	"default_lease":                tool.FormatDuration(clientcmd.DefaultLease),
	"default_grace":                tool.FormatDuration(clientcmd.DefaultGrace),
	"default_wrap_timeout":         tool.FormatDuration(clientcmd.DefaultWrapTimeout),
	"default_namespace":            acs.DefaultNamespaceURL,
	"default_ns_lifetime":          tool.FormatDuration(acs.DefaultLifetime),
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
