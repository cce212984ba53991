package tool

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteFileAtomicErrors: a failed write names the file asked for,
// never the temporary file it goes through.
func TestWriteFileAtomicErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "taken"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "taken", "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		filepath.Join(dir, "missing", "token.txt"), // the temporary file cannot be created
		filepath.Join(dir, "taken"),                // a folder is not replaced
	} {
		err := WriteFileAtomic(path, []byte("data"), 0o600)
		if err == nil {
			t.Errorf("%s: no error", path)
			continue
		}
		if !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "."+filepath.Base(path)+".") {
			t.Errorf("%s: %v", path, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	ok := filepath.Join(dir, "ok.txt")
	if err := WriteFileAtomic(ok, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(ok); err != nil || string(b) != "data" {
		t.Errorf("read back %q, %v", b, err)
	}
}
