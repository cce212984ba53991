package compat

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/seskit/ses/cli"
)

// LinksCmd is `ses links DIR`.
type LinksCmd struct {
	Dir   string `arg:"" help:"Folder to create the links in; it must exist unless --mkdir." type:"path"`
	Mkdir bool   `help:"Create the folder when it does not exist."`
}

// Run links the dialects' Names to the running binary: symbolic links, or
// on Windows copies (a renamed copy is what selects the dialect there). A
// link already there is replaced when ses made it (a symbolic link to a ses
// binary, or on Windows a copy of this one); any other file is left alone
// and refused.
func (c *LinksCmd) Run(g *cli.Globals) error {
	self, err := os.Executable()
	if err != nil {
		return cli.Usagef("cannot find this binary: %v", err)
	}
	if self, err = filepath.EvalSymlinks(self); err != nil {
		return cli.Usagef("cannot find this binary: %v", err)
	}
	switch fi, err := os.Stat(c.Dir); {
	case errors.Is(err, fs.ErrNotExist) && c.Mkdir:
		if err := os.MkdirAll(c.Dir, 0o755); err != nil {
			return cli.Usagef("%v", err)
		}
	case errors.Is(err, fs.ErrNotExist):
		return cli.Usagef("folder %s does not exist", c.Dir).Hint("name an existing folder, or add --mkdir to create it")
	case err != nil:
		return cli.Usagef("%v", err)
	case !fi.IsDir():
		return cli.Usagef("%s is not a folder", c.Dir)
	}
	var dsts []string
	for _, name := range Names {
		dst := filepath.Join(c.Dir, name)
		if runtime.GOOS == "windows" {
			dst += ".exe"
		}
		if err := replaceable(dst, self); err != nil {
			return err
		}
		dsts = append(dsts, dst)
	}
	for _, dst := range dsts {
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

// replaceable reports why dst may not be replaced by a link to self: it is
// there and is not a link ses made.
func replaceable(dst, self string) error {
	fi, err := os.Lstat(dst)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return cli.Usagef("%v", err)
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(dst)
		if err != nil {
			return cli.Usagef("%v", err)
		}
		base := strings.TrimSuffix(strings.ToLower(filepath.Base(target)), ".exe")
		if resolved, err := filepath.EvalSymlinks(dst); base == "ses" || err == nil && resolved == self {
			return nil
		}
		return cli.Usagef("%s is a link to %s, not to ses: not replaced", dst, target).Hint("remove it first if it should go")
	case fi.Mode().IsRegular() && sameContent(dst, self):
		return nil
	}
	return cli.Usagef("%s is there and is not a link ses made: not replaced", dst).Hint("remove it first if it should go")
}

// sameContent reports whether files a and b hold the same bytes.
func sameContent(a, b string) bool {
	x, err := os.ReadFile(a)
	if err != nil {
		return false
	}
	y, err := os.ReadFile(b)
	return err == nil && bytes.Equal(x, y)
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
