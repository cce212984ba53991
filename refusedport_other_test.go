//go:build !unix

package main

import (
	"net"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"
)

// refusedport sets VAR to a port on 127.0.0.1 that nothing listens on: one
// the system has just given and taken back. Unlike the Unix version's, it
// is not held, so another program could take it meanwhile.
func refusedport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: refusedport VAR")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	port := l.Addr().(*net.TCPAddr).Port
	ts.Check(l.Close())
	ts.Setenv(args[0], strconv.Itoa(port))
}
