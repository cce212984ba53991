package usage

import (
	"bytes"
	"strings"
	"testing"

	"github.com/seskit/ses/server"
)

func TestHeld(t *testing.T) {
	for in, want := range map[float64]string{0: "0s", 0.04: "0s", 3.011: "3s", 3.06: "3.1s", 59.94: "59.9s", 61.4: "1m1s", 3725: "1h2m5s"} {
		if got := Held(in); got != want {
			t.Errorf("Held(%v) = %q, want %q", in, got, want)
		}
	}
}

// TestPrintSummary: one row per application, then the totals; a name
// with what a terminal would act on, or with spaces, is quoted.
func TestPrintSummary(t *testing.T) {
	var b bytes.Buffer
	PrintSummary(&b, server.UsageReport{
		Summary: []server.AppUsage{
			{App: "", Denied: 1},
			{App: "contosoapp", Approved: 2, Denied: 1, Leases: 1, Released: 1, HeldSeconds: 3.011},
			{App: "evil\x1b[2Jx y", Denied: 1},
		},
		Totals: server.AppUsage{Approved: 2, Denied: 3, Leases: 1, Released: 1, HeldSeconds: 3.011},
	})
	want := []string{
		`APPLICATION       APPROVED  DENIED  ERRORS  LEASES  ACTIVE  RELEASED  EXPIRED  HELD`,
		`(none)            0         1       0       0       0       0         0        0s`,
		`contosoapp        2         1       0       1       0       1         0        3s`,
		`"evil\x1b[2Jx y"  0         1       0       0       0       0         0        0s`,
		`all applications  2         3       0       1       0       1         0        3s`,
	}
	if got := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("summary:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
