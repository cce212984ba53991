package client

import (
	"context"
	"crypto/x509"
	"testing"

	"github.com/seskit/ses/internal/testpki"
)

// TestSystemRootsOnlyWhenNeeded checks that the system roots are read only
// for a chain that the extra roots and the pins do not trust, and that the
// decision is then the whole pool's.
func TestSystemRootsOnlyWhenNeeded(t *testing.T) {
	dev, public := newPKI(t), freshPKI(t)
	read := 0
	saved := systemRoots
	t.Cleanup(func() { systemRoots = saved })
	systemRoots = func() *x509.CertPool { // the "system" trusts public's root
		read++
		pool := x509.NewCertPool()
		pool.AddCert(public.root.Certificate)
		return pool
	}

	for _, tt := range []struct {
		name      string
		p         pki
		extraRoot *testpki.Cert
		pin       *testpki.Cert
		want      string
		reads     int
	}{
		{"trusted by the extra root", dev, dev.root, dev.inter, "ok", 0},
		{"trusted by the system roots", public, dev.root, public.inter, "ok", 1},
		{"trusted by the system roots, no extra root", public, nil, public.inter, "ok", 1},
		{"the extra root's chain, another pin", dev, dev.root, public.inter, "untrusted", 1},
		{"trusted by nothing", freshPKI(t), dev.root, dev.inter, "untrusted", 1},
	} {
		read = 0
		s := newServer(t, ok, tt.p.leaf, tt.p.inter)
		c, err := New(s.options(tt.extraRoot, tt.pin))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Check(context.Background(), "token", "app")
		if got := kind(err); got != tt.want || read != tt.reads {
			t.Errorf("%s: %s (%v), system roots read %d times; want %s, %d", tt.name, got, err, read, tt.want, tt.reads)
		}
		if tt.want == "untrusted" && s.hits.Load() != 0 {
			t.Errorf("%s: the request reached the server", tt.name)
		}
	}
}
