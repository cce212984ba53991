package cli

import (
	"errors"
	"regexp"
	"strings"

	"github.com/alecthomas/kong"
)

// flagNames maps the flag names a message may use to the flags of the
// command that ran: each flag's own name and aliases to its name, and the
// ses flags it stands for to it. A dialect's flag names the ses flags it
// stands for in a ses tag (ses:"app"), so a message of the ses command a
// dialect runs names the dialect's flag; a hint naming a flag the command
// lacks is not shown.
type flagNames map[string]string

// flagNamesOf reads the names of flags.
func flagNamesOf(flags []*kong.Flag) flagNames {
	n := flagNames{}
	for _, f := range flags {
		n[f.Name] = f.Name
		for _, a := range f.Aliases {
			n[a] = a
		}
		for _, s := range strings.Split(f.Tag.Get("ses"), ",") {
			if s = strings.TrimSpace(s); s != "" {
				n[s] = f.Name
			}
		}
	}
	return n
}

// flagWord is a flag as messages name it.
var flagWord = regexp.MustCompile(`--[a-z][a-z0-9-]*`)

// rename returns text with every flag it names renamed, and whether each
// of them is one the command has. What is in backquotes is a command line
// of its own (`ses certs list --show all`) and stays as it is.
func (n flagNames) rename(text string) (string, bool) {
	known := true
	parts := strings.Split(text, "`")
	for i := 0; i < len(parts); i += 2 {
		parts[i] = flagWord.ReplaceAllStringFunc(parts[i], func(w string) string {
			name, ok := n[w[2:]]
			if !ok {
				known = false
				return w
			}
			return "--" + name
		})
	}
	return strings.Join(parts, "`"), known
}

// apply returns err as the command reports it: flags renamed in the
// message and the hints, and the hints that name a flag it lacks left out.
// The exit code and silence stay err's.
func (n flagNames) apply(err error) error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var errs []error
		for _, e := range joined.Unwrap() {
			errs = append(errs, n.apply(e))
		}
		return errors.Join(errs...)
	}
	msg, _ := n.rename(err.Error())
	out := &Error{Code: CodeOf(err), Err: errors.New(msg)}
	var ce *Error
	if errors.As(err, &ce) {
		out.Silent = ce.Silent
		for _, h := range ce.Hints {
			if h, ok := n.rename(h); ok {
				out.Hints = append(out.Hints, h)
			}
		}
	}
	return out
}
