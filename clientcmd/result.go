package clientcmd

import (
	"encoding/json"
	"errors"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/client"
	"github.com/seskit/ses/tool"
)

// result is the --json form of every outcome of check, lease, renew and
// release: one object on stdout whatever the exit code, the error and its
// hints still on stderr.
type result struct {
	// Outcome is the command's success (entitled, leased, renewed,
	// released), or what went wrong: denied (exit 1), usage (2),
	// untrusted (3), unreachable (4), unexpected (5).
	Outcome string `json:"outcome"`
	Exit    int    `json:"exit"`
	// Entitled is given by the check alone.
	Entitled *bool  `json:"entitled,omitempty"`
	App      string `json:"app,omitempty"`
	ID       string `json:"id,omitempty"`
	VMID     string `json:"vmid,omitempty"`
	Expiry   string `json:"expiry,omitempty"`
	// Status, Code and Message are the server's answer to a refusal.
	Status  int    `json:"status,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	// Attempts is how many attempts an unreachable server was given.
	Attempts int      `json:"attempts,omitempty"`
	Error    string   `json:"error,omitempty"`
	Hints    []string `json:"hints,omitempty"`
}

// failures name the outcome of each exit code but success.
var failures = map[int]string{
	cli.ExitNo:          "denied",
	cli.ExitUsage:       "usage",
	cli.ExitUntrusted:   "untrusted",
	cli.ExitUnreachable: "unreachable",
	cli.ExitProtocol:    "unexpected",
}

// writeJSON prints res, completed from err when the command failed, and
// returns err for main to report and exit with.
func writeJSON(g *cli.Globals, res result, err error) error {
	if err != nil {
		res.Exit = cli.CodeOf(err)
		res.Outcome = failures[res.Exit]
		res.Error = err.Error()
		var ce *cli.Error
		if errors.As(err, &ce) {
			res.Hints = ce.Hints
		}
		var (
			denied      *client.DeniedError
			protocol    *client.ProtocolError
			unreachable *client.UnreachableError
		)
		switch {
		case errors.As(err, &denied):
			res.Status, res.Code, res.Message = denied.Status, denied.Code, denied.Message
		case errors.As(err, &protocol):
			res.Status = protocol.Status
		case errors.As(err, &unreachable):
			res.Attempts = unreachable.Attempts
		}
	}
	data, jerr := json.Marshal(res)
	if jerr != nil {
		return jerr
	}
	if _, werr := g.Stdout.Write(append(tool.PrintableJSON(data), '\n')); werr != nil && err == nil {
		return werr
	}
	return err
}
