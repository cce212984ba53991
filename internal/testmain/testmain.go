// Package testmain prepares every test process of the module, from its
// package's TestMain: under -race it has the race detector exit at once.
//
// At the exit of a race-built program the detector waits a second
// (GORACE's atexit_sleep_ms, 1000 by default) for reports from goroutines
// still running, which for go test -race ./... is a second of nothing per
// test package. A test binary's own checks make the wait moot: testing
// fails a test during which the detector reported a race, and a report at
// any time still makes the binary exit 66.
package testmain

import (
	"os"
	"runtime/debug"
	"strings"
)

// Start, first thing in TestMain, runs the test binary again in its place
// (same process, arguments and environment) with atexit_sleep_ms=0 added
// to GORACE, when it is race-built and GORACE does not set atexit_sleep_ms.
// Where the binary cannot be run again, it returns and the tests run as
// they are.
func Start() {
	if !raceBuilt() || strings.Contains(os.Getenv("GORACE"), "atexit_sleep_ms") {
		return
	}
	env := []string{strings.TrimSpace("GORACE=atexit_sleep_ms=0 " + os.Getenv("GORACE"))}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GORACE=") {
			env = append(env, kv)
		}
	}
	reexec(env)
}

// raceBuilt reports whether the binary was built with -race.
func raceBuilt() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}
