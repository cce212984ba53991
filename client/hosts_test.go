package client

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seskit/ses/internal/testpki"
	"github.com/seskit/ses/tool"
)

// TestZoneHostsRefused: an IPv6 zone made a URL end in a Batch suffix while
// it named a loopback address. Such hosts are refused before anything is
// dialled.
func TestZoneHostsRefused(t *testing.T) {
	var dials atomic.Int32
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return nil, errors.New("no dialling in this test")
	}
	for _, raw := range []string{
		"https://[::ffff:127.0.0.1%25x.batch.azure.com]:4443",
		"https://[::1%25.batch.azure.com]",
		"https://[fe80::1%25.batch.azure.com]",
		"https://[::1]:4443",
		"https://127.0.0.1",
		"https://a_b.westus.batch.azure.com",
	} {
		for _, allow := range [][]string{nil, {".batch.azure.com"}, {"localhost"}} {
			c, err := New(Options{URL: raw, AllowHosts: allow, Dial: dial})
			if err == nil {
				t.Errorf("New(%s, allow %q) accepted host %s", raw, allow, c.host)
				c.Check(context.Background(), "tok", "app")
				continue
			}
			if kind(err) != "untrusted" {
				t.Errorf("New(%s): %v, want untrusted", raw, err)
			}
		}
	}
	if n := dials.Load(); n != 0 {
		t.Errorf("%d dials to refused hosts", n)
	}
}

func TestAllowedAddresses(t *testing.T) {
	for _, tt := range []struct {
		url   string
		allow []string
		ok    bool
	}{
		{"https://127.0.0.1:4443", []string{"127.0.0.1"}, true},
		{"https://[::1]:4443", []string{"::1"}, true},
		{"https://[::1]", []string{"[::1]"}, true},
		{"https://127.0.0.1", []string{"0.0.1"}, false},
		{"https://127.0.0.1", []string{".0.1"}, false},
		{"https://127.0.0.1", []string{"localhost"}, false},
		{"https://[::ffff:127.0.0.1]", []string{"127.0.0.1"}, false},
		{"https://LocalHost:1", []string{"localhost"}, true},
	} {
		c, err := New(Options{URL: tt.url, AllowHosts: tt.allow})
		if (err == nil) != tt.ok {
			t.Errorf("New(%s, allow %q) = %v, want ok %v", tt.url, tt.allow, err, tt.ok)
		}
		var he *tool.HostError
		if err != nil && !errors.As(err, &he) && !strings.Contains(err.Error(), "allowed host") {
			t.Errorf("New(%s): %v names neither the host nor the pattern", tt.url, err)
		}
		if err == nil && strings.ContainsAny(c.endpoint(""), "%") {
			t.Errorf("endpoint %s", c.endpoint(""))
		}
	}
	if c, err := New(Options{URL: "https://ACCT.WestUS.Batch.Azure.com.:443/x"}); err != nil || c.endpoint("/e") != "https://acct.westus.batch.azure.com:443/x/e?api-version="+tool.DefaultAPIVersion {
		t.Errorf("the request does not go to the canonical host: %v", err)
	}
	if _, err := New(Options{URL: "https://a.westus.batch.azure.com", AllowHosts: []string{"x%y"}}); err == nil || kind(err) == "untrusted" {
		t.Errorf("a malformed allowed host: %v, want a configuration error", err)
	}
}

// FuzzNew: no URL gets a client for a host that is not a lowercase LDH name
// under a Batch suffix.
func FuzzNew(f *testing.F) {
	for _, s := range []string{
		"https://acct.westus.batch.azure.com", "https://[::ffff:127.0.0.1%25x.batch.azure.com]:1",
		"https://[::1%25.batch.azure.com]", "https://[fe80::1%25.batch.azure.com]/", "https://a.batch.azure.com:443/p/",
		"https://127.0.0.1", "https://a%2Eb.batch.azure.com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := New(Options{URL: raw})
		if err != nil {
			return
		}
		if !tool.IsBatchHost(c.host) || strings.ContainsAny(c.host, "%[]:") || strings.ToLower(c.host) != c.host {
			t.Fatalf("New(%q) accepted host %q", raw, c.host)
		}
		if h := c.base.Hostname(); h != c.host {
			t.Fatalf("New(%q) requests go to %q, not %q", raw, h, c.host)
		}
	})
}

// TestDevRootOnlyForItsHosts: a root trusted for some hosts is not trusted
// for a Batch host, even when the development certificate names one.
func TestDevRootOnlyForItsHosts(t *testing.T) {
	later := time.Now().Add(time.Hour)
	ca := testpki.SharedCA(t)
	root, inter := ca.Root, ca.Intermediate
	for _, tt := range []struct {
		host string
		want string
	}{
		{testHost, "untrusted"},
		{"localhost", "ok"},
		{"build.example", "ok"},
		{"other.example", "untrusted"},
	} {
		leaf := ca.Leaf(t, "dev tls", tt.host, later)
		s := newServer(t, ok, leaf, inter)
		o := s.options(nil, inter)
		o.URL = "https://" + tt.host
		o.AllowHosts = []string{"localhost", "build.example", "other.example"}
		o.HostRoots = []HostRoot{{Root: root.Certificate, Hosts: []string{"localhost", "127.0.0.1", "::1", "build.example", testHost}}}
		c, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Check(context.Background(), "tok", "app")
		if got := kind(err); got != tt.want {
			t.Errorf("%s: %s (%v), want %s", tt.host, got, err, tt.want)
		}
		if tt.want != "ok" && s.hits.Load() != 0 {
			t.Errorf("%s: the token reached the server", tt.host)
		}
	}
}

// rawServer accepts connections on 127.0.0.1, counts them, and answers
// each with answer after reading what the client sends first.
func rawServer(t *testing.T, answer []byte) (addr string, conns *atomic.Int32) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns = new(atomic.Int32)
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(time.Minute))
				buf := make([]byte, 4096)
				c.Read(buf) // the ClientHello
				if answer == nil {
					return // closed: a connection failure, not TLS
				}
				c.Write(answer)
				io.Copy(io.Discard, c) // until the client hangs up
			}()
		}
	}()
	return l.Addr().String(), conns
}

// TestHandshakeFailuresAreUntrusted: whatever fails in the TLS handshake
// is untrusted and never retried; a connection closed before any answer
// is a connection failure and is.
func TestHandshakeFailuresAreUntrusted(t *testing.T) {
	p := newPKI(t)
	old := newServerWith(t, ok, func(cfg *tls.Config) {
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	}, p.leaf, p.inter)
	tests := []struct {
		name   string
		answer []byte
		want   string
		conns  int32
	}{
		{"an HTTP answer", []byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"), "untrusted", 1},
		{"a handshake_failure alert", []byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28}, "untrusted", 1},
		{"a protocol_version alert", []byte{0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46}, "untrusted", 1},
		{"a bad handshake record", []byte{0x16, 0x03, 0x03, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00}, "untrusted", 1},
		{"garbage", []byte("\x00\x01\x02garbage garbage garbage"), "untrusted", 1},
		{"closed at once", nil, "unreachable", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, conns := rawServer(t, tt.answer)
			o := Options{URL: "https://" + testHost, Pins: []tool.Pin{}, Retries: 2, Backoff: time.Millisecond, Timeout: time.Minute,
				Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
					return (&net.Dialer{}).DialContext(ctx, network, addr)
				}}
			c, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Check(context.Background(), "tok", "app")
			if got := kind(err); got != tt.want {
				t.Fatalf("%s (%v), want %s", got, err, tt.want)
			}
			if n := conns.Load(); n != tt.conns {
				t.Errorf("%d connections, want %d", n, tt.conns)
			}
		})
	}
	t.Run("a TLS 1.1 server", func(t *testing.T) {
		c, err := New(old.options(p.root, p.inter))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Check(context.Background(), "tok", "app")
		if got := kind(err); got != "untrusted" {
			t.Fatalf("%s (%v), want untrusted", got, err)
		}
		if n := old.conns.Load(); n != 1 {
			t.Errorf("%d connections, want 1: a TLS failure is never retried", n)
		}
	})
}
