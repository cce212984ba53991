//go:build unix

package testmain

import (
	"os"
	"syscall"
)

// reexecs is whether reexec can run the binary again here.
const reexecs = true

// reexec replaces the process's program with the binary itself, run with
// the same arguments and env; it returns only if that fails.
func reexec(env []string) {
	if exe, err := os.Executable(); err == nil {
		syscall.Exec(exe, os.Args, env)
	}
}
