//go:build unix

package tool

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// A pipe (like /dev/null or /dev/stdout) named as the output is written to,
// not replaced by a regular file.
func TestWriteFileAtomicKeepsSpecialFiles(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- err.Error()
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- string(b)
	}()
	if err := WriteFileAtomic(fifo, []byte("token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(fifo)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("%s is now %v, not a pipe", fifo, fi.Mode())
	}
	if s := <-got; s != "token\n" {
		t.Errorf("the pipe's reader got %q", s)
	}
}

func TestWriteFileAtomicRefusesAFolder(t *testing.T) {
	if err := WriteFileAtomic(t.TempDir(), []byte("x"), 0o600); err == nil {
		t.Error("writing over a folder succeeded")
	}
}
