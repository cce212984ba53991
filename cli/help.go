package cli

import (
	"strings"

	"github.com/alecthomas/kong"
)

// globalGroup holds the flags of Globals: the help lists them after the
// command's own.
var globalGroup = kong.Group{Key: "global", Title: "Global flags:"}

// helpValue is the help of a flag or argument: its help text (with the
// environment variable it reads, as kong shows it), then its default and
// its aliases unless the text already says them.
func helpValue(v *kong.Value) string {
	help := kong.DefaultHelpValueFormatter(v)
	var extra []string
	if v.HasDefault && v.Default != "" && !strings.Contains(v.Help, "default") {
		extra = append(extra, "default: "+v.Default)
	}
	if v.Flag != nil && len(v.Flag.Aliases) > 0 {
		aliases := make([]string, len(v.Flag.Aliases))
		for i, a := range v.Flag.Aliases {
			aliases[i] = "--" + a
		}
		if !strings.Contains(help, aliases[0]) {
			extra = append(extra, "alias: "+strings.Join(aliases, ", "))
		}
	}
	if len(extra) == 0 {
		return help
	}
	suffix := "(" + strings.Join(extra, "; ") + ")"
	if strings.HasSuffix(help, ".") {
		return help[:len(help)-1] + " " + suffix + "."
	}
	if help == "" {
		return suffix
	}
	return help + " " + suffix
}

// HelpCmd is `help [COMMAND...]`: the help of the program or of one of its
// commands, as --help prints it.
type HelpCmd struct {
	Command []string `arg:"" optional:"" help:"The command to explain, e.g. token or certs create." placeholder:"COMMAND"`
}

// Run prints the help of the command named, without running or checking
// anything else.
func (c *HelpCmd) Run(kctx *kong.Context) error {
	_, fold := kctx.Model.Target.Addr().Interface().(Dialect)
	args, _ := readArgs(kctx.Model.Node, c.Command, fold)
	ctx, err := kong.Trace(kctx.Kong, args)
	if err == nil {
		err = ctx.Error
	}
	if err != nil {
		return Usagef("%v", err).Hint("`%s help` lists the commands", kctx.Model.Name)
	}
	return ctx.PrintUsage(false)
}
