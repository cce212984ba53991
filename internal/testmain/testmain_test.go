package testmain

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	Start()
	if os.Getenv("TESTMAIN_REPORT") != "" {
		fmt.Printf("GORACE=%q\n", os.Getenv("GORACE"))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestStart runs this test binary with GORACE set to another option and
// checks what GORACE its tests see: the option kept, and under -race (where
// the binary can be run again) atexit_sleep_ms=0 before it.
func TestStart(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TESTMAIN_REPORT=1", "GORACE=halt_on_error=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "halt_on_error=1"
	if raceBuilt() && reexecs {
		want = "atexit_sleep_ms=0 halt_on_error=1"
	}
	if got := strings.TrimSpace(string(out)); got != fmt.Sprintf("GORACE=%q", want) {
		t.Errorf("the tests saw %s, want GORACE=%q", got, want)
	}
}
