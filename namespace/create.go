package namespace

import (
	"os"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/server/acs"
)

// CreateCmd is `ses namespace create`.
type CreateCmd struct {
	FileFlag
	Issuer string `help:"The namespace's URL: the Issuer of every token it issues." default:"${default_namespace}" placeholder:"URL"`
	Force  bool   `help:"Replace an existing file."`
}

// Run writes the new file.
func (c *CreateCmd) Run() error {
	if _, err := os.Lstat(c.File); err == nil && !c.Force {
		return cli.Usagef("--file %s exists already", c.File).Hint("pass --force to replace it, or edit it with the other `ses namespace` commands")
	}
	f, err := acs.NewFile(c.File, c.Issuer)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	if err := f.Save(); err != nil {
		return c.refused(err)
	}
	return nil
}
