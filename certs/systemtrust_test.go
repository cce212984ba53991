package certs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seskit/ses/internal/testpki"
	"github.com/seskit/ses/tool"
)

// ran is a command a fake trust store was asked to run.
type ran struct {
	cmd   string
	stdin string
}

func fakeTrust(goos, root string, privileged bool) (*systemTrust, *[]ran) {
	var cmds []ran
	return &systemTrust{goos: goos, root: root, privileged: privileged, run: func(stdin []byte, name string, args ...string) error {
		cmds = append(cmds, ran{strings.Join(append([]string{name}, args...), " "), string(stdin)})
		return nil
	}}, &cmds
}

func TestSystemTrust(t *testing.T) {
	cert := testpki.SharedCA(t).Root.Certificate
	root := &tool.Credential{Certificate: cert, File: "/home/me/.config/ses/dev/root.pem"}
	pem, _ := tool.EncodePEM(&tool.Credential{Certificate: cert})
	anchor := "ses-development-root-" + root.Thumbprint().String() + ".crt"
	tests := []struct {
		name       string
		goos       string
		dirs       []string // made under the fake root
		privileged bool
		hooks      bool   // an executable hook and a file that is none
		file       string // the anchor written under the fake root, "" for none
		add        []string
		remove     []string
		stdin      string // what the first command added with reads
	}{
		{name: "Debian", goos: "linux", dirs: []string{"usr/local/share/ca-certificates", "etc/ca-certificates/update.d"}, hooks: true, privileged: true,
			file: "usr/local/share/ca-certificates/" + anchor, add: []string{"update-ca-certificates"},
			remove: []string{"update-ca-certificates --fresh", "/etc/ca-certificates/update.d/jks-keystore"}},
		{name: "Fedora", goos: "linux", dirs: []string{"etc/pki/ca-trust/source/anchors"}, privileged: true,
			file: "etc/pki/ca-trust/source/anchors/" + anchor, add: []string{"update-ca-trust extract"}, remove: []string{"update-ca-trust extract"}},
		{name: "Debian through sudo", goos: "linux", dirs: []string{"usr/local/share/ca-certificates"},
			add:    []string{"sudo tee /usr/local/share/ca-certificates/" + anchor, "sudo update-ca-certificates"},
			remove: []string{"sudo rm -f /usr/local/share/ca-certificates/" + anchor, "sudo update-ca-certificates --fresh"}, stdin: string(pem)},
		{name: "Debian without hooks", goos: "linux", dirs: []string{"usr/local/share/ca-certificates"}, privileged: true,
			file: "usr/local/share/ca-certificates/" + anchor, add: []string{"update-ca-certificates"}, remove: []string{"update-ca-certificates --fresh"}},
		{name: "macOS", goos: "darwin",
			add:    []string{"sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain " + root.File},
			remove: []string{"sudo security remove-trusted-cert -d " + root.File, "sudo security delete-certificate -Z " + root.Thumbprint().String() + " /Library/Keychains/System.keychain"}},
		{name: "macOS as root", goos: "darwin", privileged: true,
			add:    []string{"security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain " + root.File},
			remove: []string{"security remove-trusted-cert -d " + root.File, "security delete-certificate -Z " + root.Thumbprint().String() + " /Library/Keychains/System.keychain"}},
		{name: "Windows", goos: "windows", privileged: true,
			add: []string{"certutil -addstore -f Root " + root.File}, remove: []string{"certutil -delstore Root " + root.Thumbprint().String()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, d := range tt.dirs {
				if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if tt.hooks {
				hooks := filepath.Join(dir, "etc/ca-certificates/update.d")
				os.WriteFile(filepath.Join(hooks, "jks-keystore"), []byte("#!/bin/sh\n"), 0o755)
				os.WriteFile(filepath.Join(hooks, "README"), []byte("not a hook"), 0o644)
			}
			ts, cmds := fakeTrust(tt.goos, dir, tt.privileged)
			if _, err := ts.add(root); err != nil {
				t.Fatal(err)
			}
			if got := names(*cmds); got != strings.Join(tt.add, "; ") {
				t.Errorf("add ran\n %s\nwant\n %s", got, strings.Join(tt.add, "; "))
			}
			if tt.stdin != "" && (*cmds)[0].stdin != tt.stdin {
				t.Errorf("%s read %q, want the root's PEM", (*cmds)[0].cmd, (*cmds)[0].stdin)
			}
			if tt.file != "" {
				data, err := os.ReadFile(filepath.Join(dir, tt.file))
				if err != nil || string(data) != string(pem) {
					t.Fatalf("anchor %s: %q, %v; want the root certificate alone", tt.file, data, err)
				}
				if fi, _ := os.Stat(filepath.Join(dir, tt.file)); fi.Mode().Perm() != 0o644 {
					t.Errorf("anchor mode %v, want 0644", fi.Mode().Perm())
				}
				if ents, _ := os.ReadDir(filepath.Dir(filepath.Join(dir, tt.file))); len(ents) != 1 {
					t.Errorf("the anchors folder holds %d files, want the anchor alone", len(ents))
				}
			}
			*cmds = nil
			if _, err := ts.remove(root); err != nil {
				t.Fatal(err)
			}
			if got := names(*cmds); got != strings.Join(tt.remove, "; ") {
				t.Errorf("remove ran\n %s\nwant\n %s", got, strings.Join(tt.remove, "; "))
			}
			if want := "-/etc/ssl/certs/" + strings.TrimSuffix(anchor, ".crt") + ".pem\n"; tt.hooks && (*cmds)[1].stdin != want {
				t.Errorf("the hook read %q, want %q", (*cmds)[1].stdin, want)
			}
			if tt.file != "" {
				if _, err := os.Stat(filepath.Join(dir, tt.file)); !os.IsNotExist(err) {
					t.Errorf("anchor still there after remove: %v", err)
				}
				// Removing again is no error: the root is untrusted.
				if _, err := ts.remove(root); err != nil {
					t.Errorf("second remove: %v", err)
				}
			}
		})
	}

	// A Linux without a known layout says where it looked.
	ts, cmds := fakeTrust("linux", t.TempDir(), true)
	_, err := ts.add(root)
	if err == nil || !strings.Contains(err.Error(), "/usr/local/share/ca-certificates (Debian, Ubuntu)") || !strings.Contains(err.Error(), "/etc/pki/ca-trust/source/anchors (Fedora, RHEL)") || len(*cmds) != 0 {
		t.Errorf("no layout: %v, ran %v", err, *cmds)
	}
}

func names(cmds []ran) string {
	var s []string
	for _, c := range cmds {
		s = append(s, c.cmd)
	}
	return strings.Join(s, "; ")
}
