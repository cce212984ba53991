//go:build !unix

package testmain

// reexecs is whether reexec can run the binary again here.
const reexecs = false

// reexec cannot replace the process's program here: the tests run as they
// are.
func reexec([]string) {}
