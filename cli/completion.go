package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/alecthomas/kong"
	kongcompletion "github.com/jotaen/kong-completion"
	"github.com/posener/complete"
)

// CompletionCmd is `completion SHELL`: the code that makes a shell complete
// the program's commands, each command's flags, and the values of enum
// flags and of the log levels. The shell asks the binary itself, through
// $COMP_LINE (the protocol of bash's complete -C), which RegisterCompletion
// answers; kong-completion reads the commands and flags from kong, and its
// shell code covers bash, zsh and fish only, so this command writes the
// code for each shell, PowerShell's included.
type CompletionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish,powershell" help:"The shell: bash, zsh, fish or powershell." placeholder:"SHELL"`
	Code  bool   `short:"c" help:"Print the code itself (without: how to use it)."`
}

// activation is, for each shell, the line that loads the code ({{name}}
// the command's name), and the file that keeps it for every session.
var activation = map[string][2]string{
	"bash":       {"source <({{name}} completion -c bash)", "~/.bashrc"},
	"zsh":        {"source <({{name}} completion -c zsh)", "~/.zshrc"},
	"fish":       {"{{name}} completion -c fish | source", "~/.config/fish/config.fish"},
	"powershell": {"{{name}} completion -c powershell | Out-String | Invoke-Expression", "$PROFILE"},
}

// completionCode is each shell's code; {{bin}} is the binary's path quoted
// for the shell, {{name}} the command's name.
var completionCode = map[string]string{
	"bash": "complete -o default -o bashdefault -C {{bin}} {{name}}\n",
	"zsh":  "autoload -U +X bashcompinit && bashcompinit\ncomplete -o default -o bashdefault -C {{bin}} {{name}}\n",
	"fish": `function __complete_{{name}}
    set -lx COMP_LINE (commandline -cp)
    test -z (commandline -ct)
    and set COMP_LINE "$COMP_LINE "
    {{bin}}
end
complete -f -c {{name}} -a "(__complete_{{name}})"
`,
	"powershell": `Register-ArgumentCompleter -Native -CommandName '{{name}}' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $point = $cursorPosition - $commandAst.Extent.StartOffset
    $env:COMP_LINE = $commandAst.Extent.Text.PadRight($point).Substring(0, $point)
    $env:COMP_POINT = $point
    & {{bin}} | ForEach-Object {
        [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
    }
    Remove-Item Env:COMP_LINE, Env:COMP_POINT
}
`,
}

// Run prints the shell's code, or how to load it.
func (c *CompletionCmd) Run(kctx *kong.Context, g *Globals) error {
	name := kctx.Model.Name
	if !c.Code {
		line := strings.ReplaceAll(activation[c.Shell][0], "{{name}}", name)
		_, err := fmt.Fprintf(g.Stdout, "To complete %s commands and flags in this %s session, run:\n\n    %s\n\nTo keep it, add that line to %s.\n",
			name, c.Shell, line, activation[c.Shell][1])
		return err
	}
	bin, err := os.Executable()
	if err == nil {
		bin, err = filepath.Abs(bin)
	}
	if err != nil {
		return Usagef("cannot find this binary: %v", err)
	}
	quote := shellQuote
	if c.Shell == "powershell" {
		quote = powershellQuote
	}
	code := strings.NewReplacer("{{bin}}", quote(bin), "{{name}}", name).Replace(completionCode[c.Shell])
	_, err = fmt.Fprint(g.Stdout, code)
	return err
}

// shellQuote quotes s for bash, zsh and fish: in single quotes, a single
// quote written as '\”.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// powershellQuote quotes s for PowerShell: in single quotes, doubled.
func powershellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// RegisterCompletion answers a completion request, when $COMP_LINE holds
// one, with the commands, flags and values that fit, and ends the program;
// otherwise it does nothing. kong-completion reads the command tree; on
// top of it, flags tagged predictor:"loglevel" complete to the log levels,
// and a command with a default subcommand (ses token, ses client) offers
// that subcommand's flags too.
func RegisterCompletion(k *kong.Kong) error {
	cmd, err := kongcompletion.Command(k, kongcompletion.WithPredictor("loglevel", complete.PredictSet(LogLevels...)))
	if err != nil {
		return err
	}
	withDefaultFlags(k.Model.Node, &cmd)
	c := complete.New(k.Model.Name, cmd)
	c.Out = k.Stdout
	if c.Complete() {
		k.Exit(0)
	}
	return nil
}

// withDefaultFlags adds, below node, the flags of each default subcommand
// to its parent's.
func withDefaultFlags(node *kong.Node, cmd *complete.Command) {
	for _, child := range node.Children {
		if sub, ok := cmd.Sub[child.Name]; ok {
			withDefaultFlags(child, &sub)
			cmd.Sub[child.Name] = sub
		}
	}
	if node.DefaultCmd == nil {
		return
	}
	def, ok := cmd.Sub[node.DefaultCmd.Name]
	if !ok {
		return
	}
	if cmd.Flags == nil {
		cmd.Flags = complete.Flags{}
	}
	for _, flags := range []complete.Flags{def.Flags, def.GlobalFlags} {
		for name, p := range flags {
			cmd.Flags[name] = p
		}
	}
}
