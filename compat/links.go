package compat

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/seskit/ses/cli"
)

// LinksCmd is `ses links DIR`.
type LinksCmd struct {
	Dir string `arg:"" help:"Folder to create the links in." type:"path"`
}

// Run links the dialects' Names to the running binary: symbolic links, or
// on Windows copies (a renamed copy is what selects the dialect there). A
// file already there under one of the names is replaced.
func (c *LinksCmd) Run(g *cli.Globals) error {
	self, err := os.Executable()
	if err != nil {
		return cli.Usagef("cannot find this binary: %v", err)
	}
	if self, err = filepath.EvalSymlinks(self); err != nil {
		return cli.Usagef("cannot find this binary: %v", err)
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return cli.Usagef("%v", err)
	}
	for _, name := range Names {
		dst := filepath.Join(c.Dir, name)
		if runtime.GOOS == "windows" {
			dst += ".exe"
		}
		if err := os.Remove(dst); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return cli.Usagef("replacing %s: %v", dst, err)
		}
		if runtime.GOOS == "windows" {
			err = copyFile(self, dst)
		} else {
			err = os.Symlink(self, dst)
		}
		if err != nil {
			return cli.Usagef("creating %s: %v", dst, err)
		}
		fmt.Fprintf(g.Stdout, "%s -> %s\n", dst, self)
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
