package tool

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/seskit/ses/internal/goconst"
)

// declaredReasons lists every constant of type Reason declared in this
// package's source, read from the files themselves so that none is
// forgotten.
func declaredReasons(t *testing.T) []Reason {
	t.Helper()
	values, err := goconst.Declared(".", "Reason")
	if err != nil {
		t.Fatal(err)
	}
	out := make([]Reason, len(values))
	for i, v := range values {
		out[i] = Reason(v)
	}
	return out
}

// TestReasonTable checks that README.md's table of reason codes has one row
// for every reason in the code and no other, with the HTTP status the
// endpoint answers for it ("—" for none).
func TestReasonTable(t *testing.T) {
	declared := declaredReasons(t)
	if len(declared) < 40 {
		t.Fatalf("found only %d reasons in the source", len(declared))
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "### Reason codes")
	if !ok {
		t.Fatal("README.md has no \"### Reason codes\" section")
	}
	row := regexp.MustCompile("(?m)^\\| `([^`]+)` \\| ([^|]+) \\| [^|]+ \\|$")
	rows := map[Reason]string{}
	var order []Reason
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		r := Reason(m[1])
		if _, dup := rows[r]; dup {
			t.Errorf("README.md lists %s twice", r)
		}
		rows[r] = strings.TrimSpace(m[2])
		order = append(order, r)
	}
	for _, r := range declared {
		status, listed := rows[r]
		if !listed {
			t.Errorf("reason %s is not in README.md's table", r)
			continue
		}
		want := "—"
		if a, ok := r.Answer(); ok {
			want = strconv.Itoa(a.Status)
		}
		if status != want {
			t.Errorf("README.md says %s answers %s, the code %s", r, status, want)
		}
	}
	for _, r := range order {
		if !slices.Contains(declared, r) {
			t.Errorf("README.md lists %s, which the code does not have", r)
		}
	}
}

// TestReasonAnswers checks that every reason but those of Simple Web Tokens
// has an answer, and that each answer pairs a status with its error code.
func TestReasonAnswers(t *testing.T) {
	codes := map[int][]ErrorCode{
		400: {CodeEntitlementDenied}, 401: {CodeUnauthorized}, 403: {CodeEntitlementDenied}, 404: {CodeNotFound},
		409: {CodeAlreadyReleased, CodeLeaseExpired, CodeTooManyLeases}, 413: {CodeRequestBodyTooLarge}, 500: {CodeInternalError},
	}
	for _, r := range declaredReasons(t) {
		a, ok := r.Answer()
		if swt := strings.HasPrefix(string(r), "swt-"); ok == swt {
			t.Errorf("%s: answer %v (%v)", r, a, ok)
			continue
		}
		if ok && !slices.Contains(codes[a.Status], a.Code) {
			t.Errorf("%s is answered %d %s", r, a.Status, a.Code)
		}
	}
}

// TestWireFields checks that the property names decoders use are the
// names EntitlementRequest's JSON tags give.
func TestWireFields(t *testing.T) {
	typ := reflect.TypeFor[EntitlementRequest]()
	for field, want := range map[string]string{"Token": FieldToken, "ApplicationID": FieldApplicationID, "Duration": FieldDuration} {
		f, _ := typ.FieldByName(field)
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != want {
			t.Errorf("EntitlementRequest.%s is %q on the wire, the constant says %q", field, name, want)
		}
	}
}
