// Package namespace implements `ses namespace`: the service namespace file
// that `ses server --acs` reads, managed from the command line (issuers,
// token policies, scopes, rules, key rollover), and the claim mapper that
// shows what a scope's rules make of a caller's claims.
package namespace

import (
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/server/acs"
	"github.com/seskit/ses/tool"
)

// Cmd is `ses namespace`.
type Cmd struct {
	Create CreateCmd `cmd:"" help:"Write a new, empty namespace file."`
	Issuer IssuerCmd `cmd:"" help:"Issuers, who may ask for tokens: add, list, show, remove, rollover, retire."`
	Policy PolicyCmd `cmd:"" help:"Token policies, how tokens are signed and how long they live: add, list, show, remove, rollover, retire."`
	Scope  ScopeCmd  `cmd:"" help:"Scopes, the URLs tokens apply to: add, list, show, remove."`
	Rule   RuleCmd   `cmd:"" help:"A scope's rules, input claim to output claim: add, list, remove."`
	Map    MapCmd    `cmd:"" help:"Claim mapper: the output claims a scope's rules give a caller, rule by rule."`
}

// FileFlag names the namespace file.
type FileFlag struct {
	File string `short:"f" help:"The namespace file, as ses server --acs takes it." env:"SES_NAMESPACE" required:"" type:"path" placeholder:"FILE"`
}

// open reads the file for editing.
func (f FileFlag) open() (*acs.File, error) {
	file, err := acs.OpenFile(f.File)
	if errors.Is(err, os.ErrNotExist) {
		return nil, cli.Usagef("--file %s: no such file", f.File).Hint("`ses namespace create -f %s` makes one", f.File)
	}
	if err != nil {
		return nil, cli.Usagef("--file: %v", err)
	}
	return file, nil
}

// edit opens the file, applies change and saves it.
func (f FileFlag) edit(change func(*acs.File) error) error {
	file, err := f.open()
	if err != nil {
		return err
	}
	if err := change(file); err != nil {
		return f.refused(err)
	}
	if err := file.Save(); err != nil {
		return f.refused(err)
	}
	return nil
}

// refused turns an error of the namespace model into one for a person,
// with a hint where one helps.
func (f FileFlag) refused(err error) error {
	e := cli.Usagef("%s: %v", f.File, err)
	var (
		notFound *acs.NotFoundError
		inUse    *acs.InUseError
		invalid  *acs.InvalidError
		short    *tool.ShortKeyError
	)
	switch {
	case errors.As(err, &invalid) && errors.As(err, &short):
		e.Hint("replace a short key with `ses namespace issuer rollover NAME` (or `policy rollover NAME`), a short previous key with `retire NAME`")
	case errors.As(err, &invalid):
		e.Hint("each change must leave a namespace that ses server --acs loads")
	case errors.As(err, &notFound):
		noun := map[string]string{"issuer": "issuer", "token policy": "policy", "scope": "scope"}[notFound.What]
		e.Hint("`ses namespace %s list -f %s` lists them", noun, f.File)
	case errors.As(err, &inUse):
		e.Hint("remove those first")
	case errors.Is(err, acs.ErrPreviousKey):
		e.Hint("retire the previous key first with `retire`, or pass --force to drop it now")
	case errors.As(err, &short):
		e.Hint("leave --key out to have one generated, or make one with `ses token swt --new-key`")
	}
	return e
}

// newKey returns the key given, or a new one.
func newKey(given string) string {
	if given != "" {
		return given
	}
	return tool.NewSWTKey()
}

// table writes aligned columns to w; flush it.
func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// keyState says which keys an entry has, without showing them.
func keyState(key, previous string) string {
	s := "key"
	if key == "" {
		s = "no key"
	}
	if previous != "" {
		s += " + previous key"
	}
	return s
}

// showKeyed prints an issuer's or a policy's fields, or with keysOnly its
// keys alone, current first, one a line (the key file a protected service
// reads).
func showKeyed(w io.Writer, keysOnly bool, fields [][2]string, key, previous string) error {
	if keysOnly {
		for _, k := range []string{key, previous} {
			if k != "" {
				fmt.Fprintln(w, k)
			}
		}
		return nil
	}
	tw := table(w)
	for _, f := range fields {
		if f[1] != "" {
			fmt.Fprintf(tw, "%s\t%s\n", f[0], f[1])
		}
	}
	return tw.Flush()
}

// notFound is the error for a name the file lacks.
func (f FileFlag) notFound(what, name string) error {
	return f.refused(&acs.NotFoundError{What: what, Name: name})
}
