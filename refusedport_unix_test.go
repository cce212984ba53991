//go:build unix

package main

import (
	"strconv"
	"syscall"

	"github.com/rogpeppe/go-internal/testscript"
)

// refusedport sets VAR to a port on 127.0.0.1 that refuses connections for
// the rest of the script: a socket of the script's is bound to it and never
// listens, so no other program can take the port meanwhile.
//
//	refusedport PORT
//	exits 4 ses client --dev --url https://127.0.0.1:$PORT ...
func refusedport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: refusedport VAR")
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	ts.Check(err)
	ts.Defer(func() { syscall.Close(fd) })
	ts.Check(syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	sa, err := syscall.Getsockname(fd)
	ts.Check(err)
	ts.Setenv(args[0], strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
}
