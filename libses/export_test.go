//go:build cgo

package main

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
	"time"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/client"
)

func TestResultOf(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, cli.ExitOK},
		{&client.DeniedError{Status: 403, Code: "EntitlementDenied"}, cli.ExitNo},
		{&client.UntrustedError{Reason: "pin check failed"}, cli.ExitUntrusted},
		{fmt.Errorf("check: %w", &client.UnreachableError{Attempts: 6}), cli.ExitUnreachable},
		{&client.ProtocolError{Status: 500}, cli.ExitProtocol},
		{usagef("no token given"), cli.ExitUsage},
		{errors.New("api-version 9999-09-09.99.99 is for leases: use Acquire"), cli.ExitUsage},
	}
	for _, tt := range tests {
		if got := int(resultOf(tt.err)); got != tt.want {
			t.Errorf("resultOf(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestDescribe(t *testing.T) {
	f := describe(fmt.Errorf("lease: %w", &client.DeniedError{Status: 409, Code: "AlreadyReleased", Message: "gone"}))
	if f.status != 409 || f.code != "AlreadyReleased" || !strings.Contains(f.message, "gone") {
		t.Errorf("denial described as %+v", f)
	}
	f = describe(&client.ProtocolError{Status: 502, Msg: "Bad Gateway"})
	if f.status != 502 || f.code != "" {
		t.Errorf("protocol error described as %+v", f)
	}
}

// TestGuard: a panic inside an exported function is SES_UNEXPECTED, not a
// crash of the host program.
func TestGuard(t *testing.T) {
	rc := resultOf(nil)
	func() {
		defer guard(nil, &rc)
		var h *handle
		h.close() // nil dereference
	}()
	if int(rc) != cli.ExitProtocol {
		t.Errorf("a panic came to %d, want %d", rc, cli.ExitProtocol)
	}
}

// TestExportsAreGuarded: every function C can call defers guard first.
func TestExportsAreGuarded(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "export.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Doc == nil || !hasExport(fn.Doc) {
			continue
		}
		n++
		first, ok := fn.Body.List[0].(*ast.DeferStmt)
		if !ok {
			t.Errorf("%s does not begin with defer guard(...)", fn.Name.Name)
			continue
		}
		if id, ok := first.Call.Fun.(*ast.Ident); !ok || id.Name != "guard" {
			t.Errorf("%s does not begin with defer guard(...)", fn.Name.Name)
		}
	}
	if n < 15 {
		t.Errorf("found %d exported functions, want the 15 of ses.h that call Go", n)
	}
}

func hasExport(g *ast.CommentGroup) bool {
	for _, c := range g.List {
		if strings.HasPrefix(c.Text, "//export ") {
			return true
		}
	}
	return false
}

func TestHandleOptions(t *testing.T) {
	if _, err := newHandle("soon"); resultOf(err) != resultOf(usagef("")) || !strings.Contains(err.Error(), client.EnvConnectTimeout) {
		t.Errorf("a malformed %s: %v", client.EnvConnectTimeout, err)
	}
	h, err := newHandle("7")
	if err != nil || h.opts.ConnectTimeout != 7*time.Second {
		t.Fatalf("newHandle(7) = %+v, %v", h, err)
	}
	for name, err := range map[string]error{
		"short thumbprint":     h.addPin("abcd", ""),
		"thumbprint with =":    h.addPin("00=11", ""),
		"empty thumbprint":     h.addPin(" ", "cn"),
		"missing CA file":      h.addCAFile("testdata/nonexistent.pem"),
		"empty host":           h.allowHost(" "),
		"unknown api-version":  h.setAPIVersion("2016-01-01.1.0"),
		"negative retries":     h.setRetries(-1),
		"zero timeout":         h.setTimeout(0),
		"a timeout of an aeon": h.setTimeout(1 << 62),
	} {
		if int(resultOf(err)) != cli.ExitUsage {
			t.Errorf("%s: %v, want a bad argument", name, err)
		}
	}
	if err := h.setRetries(0); err != nil || h.opts.Retries >= 0 {
		t.Errorf("retries 0 became %d (%v), want none", h.opts.Retries, err)
	}
	if err := h.addPin("00112233445566778899aabbccddeeff00112233", "a CA"); err != nil {
		t.Fatal(err)
	}
	before := h.opts.ExtraPins
	if err := h.addPin("00112233445566778899aabbccddeeff00112244", "another CA"); err != nil {
		t.Fatal(err)
	}
	if len(before) != 1 || len(h.opts.ExtraPins) != 2 || before[0].CommonName != "a CA" {
		t.Errorf("a change showed through to the options before it: %v, %v", before, h.opts.ExtraPins)
	}
	if err := need("", "app"); !strings.Contains(err.Error(), client.EnvToken) {
		t.Errorf("no token: %v", err)
	}
	if _, err := h.check("", "a-token", "app"); err == nil || !strings.Contains(err.Error(), client.EnvURL) {
		t.Errorf("no URL: %v", err)
	}
}

func TestTruncate(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"denied", 10, "denied"},
		{"denied", 3, "den"},
		{"héllo", 2, "h"},
		{"héllo", 3, "hé"},
	} {
		if got := truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
