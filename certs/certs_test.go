package certs

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/clientcmd"
	"github.com/seskit/ses/internal/testpki"
	"github.com/seskit/ses/tool"
)

// evilName is a certificate name that, printed raw, would clear the line
// and forge a verdict.
const evilName = "evil\x1b[2K\r\u009b31mtrusted\u202e"

// raw matches what must never be printed: C0 controls but the newline and
// the tab (tabwriter's), DEL, C1 and the bidirectional overrides.
var raw = regexp.MustCompile("[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u202a-\u202e\u2066-\u2069]")

// evilCert writes a self-signed server certificate for 127.0.0.1 named
// evilName, with its key, to dir/evil.pem.
func evilCert(t *testing.T, dir string) tls.Certificate {
	t.Helper()
	evil := testpki.SelfSigned(t, &x509.Certificate{
		Subject:   pkix.Name{CommonName: evilName, Organization: []string{evilName}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	})
	der, key := evil.Certificate.Raw, evil.Key
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	var b bytes.Buffer
	pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	pem.Encode(&b, &pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := os.WriteFile(filepath.Join(dir, "evil.pem"), b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func globals(dir string) (*cli.Globals, *bytes.Buffer, *bytes.Buffer) {
	var out, errs bytes.Buffer
	return &cli.Globals{Store: dir, Stdout: &out, Stderr: &errs, Getenv: func(string) string { return "" }, Now: time.Now}, &out, &errs
}

// TestSubjectsEscaped: ses certs list, show and chain print certificate
// subjects, outside data, escaped.
func TestSubjectsEscaped(t *testing.T) {
	dir := t.TempDir()
	cert := evilCert(t, dir)
	store := &tool.Store{Dir: dir}

	g, out, errs := globals(dir)
	if err := (Listing{Show: "all", Extra: []string{"subjectname"}}).Write(g, store); err != nil {
		t.Fatal(err)
	}
	g2, out2, _ := globals(dir)
	if err := (&ShowCmd{Cert: filepath.Join(dir, "evil.pem")}).Run(g2, store); err != nil {
		t.Fatal(err)
	}

	// ses certs chain against a server presenting it.
	s := httptest.NewUnstartedServer(http.NotFoundHandler())
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.StartTLS()
	defer s.Close()
	g3, out3, _ := globals(dir)
	chain := &ChainCmd{URL: s.URL, ConnFlags: clientcmd.ConnFlags{AllowHost: []string{"127.0.0.1"}, Timeout: time.Minute}}
	if err := chain.Run(g3); cli.CodeOf(err) != cli.ExitUntrusted {
		t.Errorf("chain: %v, want untrusted", err)
	}

	for name, b := range map[string]*bytes.Buffer{"list": out, "list's warnings": errs, "show": out2, "chain": out3} {
		if raw.MatchString(b.String()) {
			t.Errorf("%s printed a raw control character: %q", name, b.String())
		}
	}
	for name, b := range map[string]*bytes.Buffer{"list": out, "show": out2, "chain": out3} {
		if !strings.Contains(b.String(), `evil\x1b[2K\r\u009b31mtrusted\u202e`) {
			t.Errorf("%s does not show the name escaped: %q", name, b.String())
		}
	}
}
