package certs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/seskit/ses/tool"
)

// systemTrust is the operating system's store of trusted roots, which curl,
// browsers and most programs use: a folder of anchors and the command that
// rebuilds the bundle on Linux, the System keychain on macOS, the
// machine's Root store on Windows.
type systemTrust struct {
	goos string
	// root is where the Linux layouts are looked for: "/" but for tests.
	root string
	// privileged reports whether the process may change the system store
	// itself; otherwise the changes run through sudo.
	privileged bool
	// run runs a command with stdin as its standard input.
	run func(stdin []byte, name string, args ...string) error
}

// linuxLayout is one distribution family's anchors folder and the commands
// that rebuild the bundles from it after an anchor is added or removed.
type linuxLayout struct {
	family, dir    string
	added, removed []string
	// hooks is the folder of the programs that keep other stores (Java's)
	// in step, told of a removed anchor as "-/etc/ssl/certs/NAME.pem" on
	// stdin; "" when the rebuild does that itself.
	hooks string
}

// linuxLayouts are the layouts `ses certs trust` knows, first found wins.
// Debian's update-ca-certificates leaves a removed anchor's links unless it
// rebuilds them all (--fresh), and never tells its hooks of a removed local
// anchor, so ses does.
var linuxLayouts = []linuxLayout{
	{"Debian, Ubuntu", "/usr/local/share/ca-certificates", []string{"update-ca-certificates"}, []string{"update-ca-certificates", "--fresh"}, "/etc/ca-certificates/update.d"},
	{"Fedora, RHEL", "/etc/pki/ca-trust/source/anchors", []string{"update-ca-trust", "extract"}, []string{"update-ca-trust", "extract"}, ""},
}

// macKeychain is the keychain macOS trusts for every user.
const macKeychain = "/Library/Keychains/System.keychain"

// hostTrust is this machine's trust store; commands print their output to
// out.
func hostTrust(out io.Writer) *systemTrust {
	return &systemTrust{
		goos:       runtime.GOOS,
		root:       string(filepath.Separator),
		privileged: runtime.GOOS == "windows" || os.Geteuid() == 0,
		run: func(stdin []byte, name string, args ...string) error {
			cmd := exec.Command(name, args...)
			cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(stdin), out, out
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("%s: %w", strings.Join(cmd.Args, " "), err)
			}
			return nil
		},
	}
}

// anchorName is the file a root is added as in a Linux anchors folder.
func anchorName(root *tool.Credential) string {
	return "ses-development-root-" + root.Thumbprint().String() + ".crt"
}

// layout finds the Linux layout of this machine.
func (s *systemTrust) layout() (linuxLayout, error) {
	var known []string
	for _, l := range linuxLayouts {
		if fi, err := os.Stat(filepath.Join(s.root, l.dir)); err == nil && fi.IsDir() {
			return l, nil
		}
		known = append(known, fmt.Sprintf("%s (%s)", l.dir, l.family))
	}
	return linuxLayout{}, fmt.Errorf("no system trust store found: looked for %s", strings.Join(known, " and "))
}

// sudo runs a command that changes the system, through sudo unless the
// process may do it itself.
func (s *systemTrust) sudo(stdin []byte, args ...string) error {
	if !s.privileged {
		args = append([]string{"sudo"}, args...)
	}
	return s.run(stdin, args[0], args[1:]...)
}

// add makes the system trust root (a certificate file alone) and reports
// where it went.
func (s *systemTrust) add(root *tool.Credential) (string, error) {
	switch s.goos {
	case "darwin":
		return macKeychain, s.sudo(nil, "security", "add-trusted-cert", "-d", "-r", "trustRoot", "-k", macKeychain, root.File)
	case "windows":
		return "the Root store", s.run(nil, "certutil", "-addstore", "-f", "Root", root.File)
	}
	l, err := s.layout()
	if err != nil {
		return "", err
	}
	pem, err := tool.EncodePEM(&tool.Credential{Certificate: root.Certificate})
	if err != nil {
		return "", err
	}
	path := filepath.Join(l.dir, anchorName(root))
	if s.privileged {
		err = tool.WriteFileAtomic(filepath.Join(s.root, path), pem, 0o644)
	} else {
		err = s.run(pem, "sudo", "tee", path)
	}
	if err != nil {
		return "", fmt.Errorf("adding %s: %w", path, err)
	}
	return path, s.sudo(nil, l.added...)
}

// remove takes root out of the system trust store and reports where from.
func (s *systemTrust) remove(root *tool.Credential) (string, error) {
	switch s.goos {
	case "darwin":
		if err := s.sudo(nil, "security", "remove-trusted-cert", "-d", root.File); err != nil {
			return "", err
		}
		return macKeychain, s.sudo(nil, "security", "delete-certificate", "-Z", root.Thumbprint().String(), macKeychain)
	case "windows":
		return "the Root store", s.run(nil, "certutil", "-delstore", "Root", root.Thumbprint().String())
	}
	l, err := s.layout()
	if err != nil {
		return "", err
	}
	path := filepath.Join(l.dir, anchorName(root))
	if s.privileged {
		err = os.Remove(filepath.Join(s.root, path))
		if errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
	} else {
		err = s.run(nil, "sudo", "rm", "-f", path)
	}
	if err != nil {
		return "", fmt.Errorf("removing %s: %w", path, err)
	}
	if err := s.sudo(nil, l.removed...); err != nil {
		return "", err
	}
	return path, s.runHooks(l, "-/etc/ssl/certs/"+strings.TrimSuffix(anchorName(root), ".crt")+".pem\n")
}

// runHooks runs the layout's hooks, in name order, with news on stdin.
func (s *systemTrust) runHooks(l linuxLayout, news string) error {
	if l.hooks == "" {
		return nil
	}
	ents, err := os.ReadDir(filepath.Join(s.root, l.hooks))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		if fi, err := e.Info(); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			continue
		}
		if err := s.sudo([]byte(news), filepath.Join(l.hooks, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
