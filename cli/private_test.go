//go:build unix

package cli

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLogFilePrivate: --log-file is created 0600, and a symbolic link
// planted at its path (to a file that exists, or to one that does not yet)
// is refused, the target left untouched.
func TestLogFilePrivate(t *testing.T) {
	dir := t.TempDir()
	g := &Globals{LogLevel: "info", LogFile: filepath.Join(dir, "server.log"), Stderr: io.Discard}
	closeLog, err := g.SetupLog()
	if err != nil {
		t.Fatal(err)
	}
	g.Log.Info().Msg("hello")
	closeLog()
	fi, err := os.Stat(g.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("--log-file created %v, want -rw-------", fi.Mode().Perm())
	}

	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"existing": victim, "dangling": filepath.Join(dir, "new-victim")} {
		link := filepath.Join(dir, name+".log")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		g := &Globals{LogLevel: "info", LogFile: link, Stderr: io.Discard}
		closeLog, err := g.SetupLog()
		if err == nil {
			g.Log.Info().Msg("planted")
			closeLog()
			t.Errorf("%s: --log-file through a symbolic link was opened", name)
		}
		var e *Error
		if !errors.As(err, &e) || e.Code != ExitUsage || !strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("%s: error %v, want a usage error naming the symbolic link", name, err)
		}
	}
	if data, _ := os.ReadFile(victim); string(data) != "keep\n" {
		t.Errorf("the link's target was written: %q", data)
	}
	if _, err := os.Stat(filepath.Join(dir, "new-victim")); err == nil {
		t.Error("the dangling link's target was created")
	}
}
