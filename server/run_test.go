//go:build unix

package server

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/tool"
)

// waitFor polls until s holds a match of re and returns it, failing the
// test after patience.
func waitFor(t *testing.T, s *syncBuffer, re *regexp.Regexp) []string {
	t.Helper()
	for deadline := time.Now().Add(patience); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(s.String()); m != nil {
			return m
		}
	}
	t.Fatalf("no match of %s after %v in:\n%s", re, patience, s.String())
	return nil
}

// gatedReader is a request body: its first part, then, once gate is
// closed (by open), the rest. started is closed when the first part is read.
type gatedReader struct {
	first, rest   string
	started, gate chan struct{}
	sent          bool
	opened        sync.Once
}

func (g *gatedReader) open() { g.opened.Do(func() { close(g.gate) }) }

func (g *gatedReader) Read(p []byte) (int, error) {
	if !g.sent {
		g.sent = true
		close(g.started)
		return copy(p, g.first), nil
	}
	<-g.gate
	n := copy(p, g.rest)
	g.rest = g.rest[n:]
	if g.rest == "" {
		return n, io.EOF
	}
	return n, nil
}

// TestRunDrainsOnSIGTERM starts the command in this process, begins a
// request, sends the process SIGTERM, and then finishes the request: it is
// answered, and Run returns nil (exit 0).
func TestRunDrainsOnSIGTERM(t *testing.T) {
	var stdout, log syncBuffer
	g := &cli.Globals{Store: t.TempDir(), Stdout: &stdout, Stderr: io.Discard, Getenv: func(string) string { return "" },
		Now: time.Now, Log: zerolog.New(&log)}
	pki := devPKI(t, g.Store)
	c := &Cmd{URL: "https://127.0.0.1:0", Connection: "dev", KeyFlags: cli.KeyFlags{Sign: "dev", Encrypt: "dev"},
		Audience: tool.DefaultAudience, Issuer: tool.DefaultIssuer, MaxLease: time.Hour, MaxLeasesPerToken: DefaultMaxLeasesPerToken}
	done := make(chan error, 1)
	go func() { done <- c.Run(g) }()
	url := waitFor(t, &stdout, regexp.MustCompile(`listening on (https://\S+)`))[1]

	tok, roots := devToken(t, pki)

	// The request is under way, its handler reading the body, when the
	// signal comes: with Expect: 100-continue the client sends the body
	// only once the handler asks for it.
	reqBody := body(tok, "contosoapp")
	gated := &gatedReader{first: reqBody[:len(reqBody)/2], rest: reqBody[len(reqBody)/2:],
		started: make(chan struct{}), gate: make(chan struct{})}
	t.Cleanup(gated.open) // a failed test leaves no request waiting
	client := &http.Client{Timeout: patience, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ExpectContinueTimeout: time.Hour}}
	type result struct {
		status int
		body   string
		err    error
	}
	answered := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("POST", url+"/softwareEntitlements?api-version=2017-09-01.6.0", gated)
		req.ContentLength = int64(len(reqBody))
		req.Header.Set("Expect", "100-continue")
		resp, err := client.Do(req)
		if err != nil {
			answered <- result{err: err}
			return
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		checkAnswer(t, resp, data)
		answered <- result{resp.StatusCode, string(data), err}
	}()
	select {
	case <-gated.started:
	case r := <-answered:
		t.Fatalf("the request ended before its body was read: %d %q %v", r.status, r.body, r.err)
	case <-time.After(patience):
		t.Fatalf("the handler had not read the body after %v", patience)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Draining: the listener closes, the request in flight goes on.
	for deadline := time.Now().Add(patience); ; time.Sleep(10 * time.Millisecond) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(url, "https://"))
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatalf("the listener still accepts connections %v after SIGTERM", patience)
		}
	}
	gated.open()

	r := await(t, answered, "the answer to the request in flight")
	if r.err != nil || r.status != 200 || !strings.Contains(r.body, `"expiry"`) {
		t.Errorf("the request in flight got %d %q %v, want a 200 answer", r.status, r.body, r.err)
	}
	if err := await(t, done, "Run after SIGTERM"); err != nil {
		t.Errorf("Run returned %v after SIGTERM, want nil (exit 0)", err)
	}
	if !strings.Contains(log.String(), `"message":"server stopped"`) {
		t.Errorf("no server stopped line in the log:\n%s", log.String())
	}
}

// TestListenLocalhost checks that localhost means both loopback addresses
// on one port, IPv6 where the machine has it.
func TestListenLocalhost(t *testing.T) {
	ls, err := listen("localhost", "0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	first := ls[0].Addr().(*net.TCPAddr)
	if !first.IP.Equal(net.IPv4(127, 0, 0, 1)) || first.Port == 0 {
		t.Errorf("first listener on %s, want 127.0.0.1 and a port", first)
	}
	for _, l := range ls[1:] {
		if a := l.Addr().(*net.TCPAddr); !a.IP.Equal(net.IPv6loopback) || a.Port != first.Port {
			t.Errorf("second listener on %s, want [::1]:%d", a, first.Port)
		}
	}
	if len(ls) > 2 {
		t.Errorf("%d listeners, want at most 2", len(ls))
	}
}
