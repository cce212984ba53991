package client

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/seskit/ses/internal/testpki"
	"github.com/seskit/ses/tool"
)

// TestPinnedHosts checks the PinnedHosts rule: a host outside the Batch
// hosts is accepted only when one of the caller's ExtraPins is in its
// verified chain, and a server refused by the rule receives no request.
func TestPinnedHosts(t *testing.T) {
	const vendorHost = "licensing.vendor.example"
	p := newPKI(t)
	later := time.Now().Add(time.Hour)
	vendorLeaf := testpki.SharedCA(t).Leaf(t, "vendor leaf", vendorHost, later)
	stranger := testpki.SelfSignedLeaf(t, "stranger", "stranger.example", later)
	pin := func(c *testpki.Cert) tool.Pin { return tool.PinOf(c.Certificate, c.Certificate.Subject.CommonName) }
	wrongCN, err := tool.ParsePin(tool.ThumbprintOf(p.inter.Certificate).String() + "=not the intermediate")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		chain []*testpki.Cert
		opts  func(o *Options)
		want  string
		hits  int32
	}{
		{name: "extra pin in the chain", chain: []*testpki.Cert{vendorLeaf, p.inter},
			opts: func(o *Options) { o.ExtraPins = []tool.Pin{pin(p.inter)} }, want: "ok", hits: 1},
		{name: "extra pin on the leaf", chain: []*testpki.Cert{vendorLeaf, p.inter},
			opts: func(o *Options) { o.ExtraPins = []tool.Pin{pin(vendorLeaf)} }, want: "ok", hits: 1},
		{name: "extra pin not in the chain", chain: []*testpki.Cert{vendorLeaf, p.inter},
			opts: func(o *Options) { o.ExtraPins = []tool.Pin{pin(stranger)} }, want: "untrusted"},
		{name: "right thumbprint, wrong common name", chain: []*testpki.Cert{vendorLeaf, p.inter},
			opts: func(o *Options) { o.ExtraPins = []tool.Pin{wrongCN} }, want: "untrusted"},
		{name: "Pins count for nothing on a pinned host", chain: []*testpki.Cert{vendorLeaf, p.inter},
			opts: func(o *Options) { o.Pins = []tool.Pin{pin(p.inter)}; o.ExtraPins = []tool.Pin{pin(stranger)} },
			want: "untrusted"},
		{name: "no extra pin", chain: []*testpki.Cert{vendorLeaf, p.inter},
			opts: func(o *Options) { o.Pins = []tool.Pin{pin(p.inter)} }, want: "untrusted"},
		{name: "without PinnedHosts", chain: []*testpki.Cert{vendorLeaf, p.inter},
			opts: func(o *Options) { o.PinnedHosts = false; o.ExtraPins = []tool.Pin{pin(p.inter)} }, want: "untrusted"},
		{name: "the pin holds, the chain does not verify", chain: []*testpki.Cert{vendorLeaf, p.inter},
			opts: func(o *Options) { o.ExtraRoots = nil; o.ExtraPins = []tool.Pin{pin(p.inter)} }, want: "untrusted"},
		{name: "a Batch host keeps every pin", chain: []*testpki.Cert{p.leaf, p.inter},
			opts: func(o *Options) {
				o.URL = "https://" + testHost
				o.Pins = []tool.Pin{pin(p.inter)}
				o.ExtraPins = []tool.Pin{pin(stranger)}
			}, want: "ok", hits: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, ok, tt.chain...)
			o := s.options(p.root)
			o.URL = "https://" + vendorHost
			o.PinnedHosts = true
			tt.opts(&o)
			c, err := New(o)
			if err == nil {
				_, err = c.Check(context.Background(), "a-token", "contosoapp")
			}
			if got := kind(err); got != tt.want {
				t.Fatalf("got %s (%v), want %s", got, err, tt.want)
			}
			if got := s.hits.Load(); got != tt.hits {
				t.Errorf("the server saw %d requests, want %d", got, tt.hits)
			}
		})
	}
}

func TestParseEntitlement(t *testing.T) {
	e, err := ParseEntitlement([]byte(`{"id":"entitlement-1","vmid":"vm-42"}`), "2017-05-01.5.0")
	if err != nil || e.ID != "entitlement-1" || e.VMID != "vm-42" || !e.Expiry.IsZero() {
		t.Errorf("5.0 answer: %+v, %v", e, err)
	}
	e, err = ParseEntitlement([]byte(`{"id":"entitlement-2","expiry":"2026-11-29T00:00:00Z"}`), "")
	if err != nil || e.ID != "entitlement-2" || e.VMID != "" || e.Expiry.Unix() != 1795910400 {
		t.Errorf("6.0 answer: %+v, %v", e, err)
	}
	for _, bad := range []struct{ body, version string }{
		{`{"vmid":"v"}`, "2017-05-01.5.0"},
		{`{"id":"e"}`, "2017-05-01.5.0"},
		{`not json`, ""},
		{`{"id":"e","expiry":"tomorrow"}`, ""},
	} {
		if _, err := ParseEntitlement([]byte(bad.body), bad.version); kind(err) != "protocol" {
			t.Errorf("ParseEntitlement(%q, %q) = %v, want a ProtocolError", bad.body, bad.version, err)
		}
	}
	for _, v := range []string{"2016-01-01.1.0", tool.LeaseAPIVersion} {
		if _, err := ParseEntitlement([]byte(`{"id":"e"}`), v); err == nil || kind(err) == "protocol" {
			t.Errorf("api-version %s: %v, want a plain error", v, err)
		}
	}
}

// A pinned host must still be a well-formed host: PinnedHosts never lets
// an IPv6 zone or any other malformed host through.
func TestPinnedHostsKeepTheHostRules(t *testing.T) {
	pin, err := tool.ParsePin("D4DE20D05E66FC53FE1A50882C78DB2852CAE474=any")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{
		"https://[::ffff:127.0.0.1%25x.batch.azure.com]:4443",
		"https://[::1%25.batch.azure.com]",
		"https://bad_host.example",
	} {
		_, err := New(Options{URL: u, PinnedHosts: true, ExtraPins: []tool.Pin{pin}})
		var ue *UntrustedError
		if !errors.As(err, &ue) {
			t.Errorf("New(%s) = %v, want an *UntrustedError", u, err)
		}
	}
}
