package clientcmd

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/client"
	"github.com/seskit/ses/internal/testpki"
	"github.com/seskit/ses/tool"
)

// batchDevHost is a Batch account host a development TLS certificate is
// issued for in the tests: --dev must never make it trusted.
const batchDevHost = "demo.westus.batch.azure.com"

// devStore is a store whose development TLS certificate is issued for
// batchDevHost and build.example besides the usual names, and globals that
// use it.
func devStore(t *testing.T) (*cli.Globals, *tool.DevPKI) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "store")
	pki, _, err := (&tool.Store{Dir: dir}).CreateDev([]string{batchDevHost, "build.example"}, false)
	if err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	return &cli.Globals{Store: dir, Getenv: func(string) string { return "" }, Stdout: &out, Stderr: &errs, Log: zerolog.Nop()}, pki
}

// devServer serves the development TLS certificate, counting requests.
func devServer(t *testing.T, pki *tool.DevPKI) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte(`{"id":"entitlement-1","expiry":"2026-11-29T00:00:00Z"}`))
	}))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{{
		Certificate: [][]byte{pki.TLS.Certificate.Raw, pki.Intermediate.Certificate.Raw}, PrivateKey: pki.TLS.Key}}}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s, &hits
}

// TestDevTrustOnlyForDevHosts: --dev trusts the development root for the
// development hosts, never for a Batch host, even one the development TLS
// certificate names.
func TestDevTrustOnlyForDevHosts(t *testing.T) {
	g, pki := devStore(t)
	s, hits := devServer(t, pki)
	for host, want := range map[string]int{
		batchDevHost:    cli.ExitUntrusted,
		"localhost":     cli.ExitOK,
		"build.example": cli.ExitOK,
	} {
		f := ConnFlags{URL: "https://" + host, Dev: true, APIVersion: tool.DefaultAPIVersion}
		o, err := f.Options(g)
		if err != nil {
			t.Fatal(err)
		}
		o.Dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, s.Listener.Addr().String())
		}
		before := hits.Load()
		var code int
		c, err := client.New(o)
		if err == nil {
			_, err = c.Check(context.Background(), "tok", "contosoapp")
		}
		if err != nil {
			code = cli.CodeOf(ExitError(err))
		}
		if code != want {
			t.Errorf("--dev to %s: exit %d (%v), want %d", host, code, err, want)
		}
		if want != cli.ExitOK && hits.Load() != before {
			t.Errorf("--dev to %s: the token was sent", host)
		}
	}
}

// TestCertificateNameEscaped: the name of a server's certificate reaches
// the client's error output (no pin in the chain) escaped.
func TestCertificateNameEscaped(t *testing.T) {
	evil := testpki.SelfSigned(t, &x509.Certificate{
		Subject:   pkix.Name{CommonName: "evil\x1b[2K\rentitled\u009b"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	})
	der, key := evil.Certificate.Raw, evil.Key
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	s := httptest.NewUnstartedServer(http.NotFoundHandler())
	s.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	s.StartTLS()
	defer s.Close()

	var out, errs bytes.Buffer
	g := &cli.Globals{Getenv: func(string) string { return "" }, Stdout: &out, Stderr: &errs, Log: zerolog.Nop()}
	cmd := CheckCmd{ConnFlags: ConnFlags{URL: s.URL, AllowHost: []string{"127.0.0.1"}, CA: []string{ca}, APIVersion: tool.DefaultAPIVersion},
		TokenFlags: TokenFlags{App: "contosoapp", Token: "tok"}}
	err := cmd.Run(g)
	if cli.CodeOf(err) != cli.ExitUntrusted {
		t.Fatalf("%v, want untrusted", err)
	}
	cli.PrintError(&errs, "ses", err)
	if regexp.MustCompile("[\x00-\x09\x0b-\x1f\x7f\u0080-\u009f]").MatchString(errs.String()) {
		t.Errorf("a raw control character reached the error output: %q", errs.String())
	}
	if !strings.Contains(errs.String(), `evil\x1b[2K\rentitled\u009b`) {
		t.Errorf("the name is not shown escaped: %q", errs.String())
	}
}
