package server

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/internal/testmain"
	"github.com/seskit/ses/tool"
)

// childStore, in the environment, makes the test binary a `ses server
// --state` child on that store, for TestKillKeepsAcknowledgedLeases.
const childStore = "SES_TEST_CHILD_STORE"

func TestMain(m *testing.M) {
	testmain.Start()
	if dir := os.Getenv(childStore); dir != "" {
		g := &cli.Globals{Store: dir, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Now: time.Now, Log: zerolog.Nop()}
		c := &Cmd{URL: "https://127.0.0.1:0", Connection: "dev", KeyFlags: cli.KeyFlags{Sign: "dev", Encrypt: "dev"},
			Audience: tool.DefaultAudience, Issuer: tool.DefaultIssuer, MaxLease: time.Hour, MaxLeasesPerToken: DefaultMaxLeasesPerToken, State: filepath.Join(dir, "leases.db")}
		if err := c.Run(g); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	code := m.Run()
	if err := devStore.Remove(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// startChild starts a --state server child and returns it and its URL.
func startChild(t *testing.T, dir string) (*exec.Cmd, string) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childStore+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	listening := regexp.MustCompile(`listening on (https://\S+)`)
	started := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			if m := listening.FindStringSubmatch(lines.Text()); m != nil {
				started <- m[1]
				break
			}
		}
		io.Copy(io.Discard, out)
		close(started)
	}()
	url := await(t, started, "the server child's banner")
	if url == "" {
		t.Fatal("the server child ended without saying where it listens")
	}
	return cmd, url
}

// TestKillKeepsAcknowledgedLeases kills a --state server (SIGKILL) while
// acquisitions are in flight, restarts it on the same file, and renews
// every lease a client was told about: none may be lost.
func TestKillKeepsAcknowledgedLeases(t *testing.T) {
	t.Parallel() // its own servers, in child processes
	dir := t.TempDir()
	tok, roots := devToken(t, devPKI(t, dir))
	client := &http.Client{Timeout: patience, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}

	child, url := startChild(t, dir)
	var (
		mu      sync.Mutex
		acked   []string
		count   atomic.Int32
		stopped = make(chan struct{})
		wg      sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			for {
				resp, err := client.Post(url+"/softwareEntitlements"+leaseV, "application/json",
					strings.NewReader(leaseBody(tok, "contosoapp", "PT30M")))
				if err != nil {
					return // killed
				}
				var m map[string]string
				err = json.NewDecoder(resp.Body).Decode(&m)
				resp.Body.Close()
				if err == nil && resp.StatusCode == 200 {
					mu.Lock()
					acked = append(acked, m["entitlementId"])
					mu.Unlock()
					if count.Add(1) == 100 {
						close(stopped)
					}
				}
			}
		})
	}
	clientsDone := make(chan struct{})
	go func() { wg.Wait(); close(clientsDone) }()
	select {
	case <-stopped:
	case <-clientsDone:
		t.Fatal("every client stopped before 100 leases were acknowledged")
	case <-time.After(patience):
		t.Fatalf("fewer than 100 leases acknowledged after %v", patience)
	}
	child.Process.Kill() // SIGKILL, requests in flight
	child.Wait()
	await(t, clientsDone, "the clients after the kill")

	_, url = startChild(t, dir)
	mu.Lock()
	defer mu.Unlock()
	for _, id := range acked {
		resp, err := client.Post(url+"/softwareEntitlements/"+id+leaseV, "application/json", strings.NewReader(`{"duration":"PT5M"}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		checkAnswer(t, resp, body)
		if resp.StatusCode != 200 {
			t.Errorf("lease %s, acknowledged before the kill: renewal %d, want 200", id, resp.StatusCode)
		}
	}
	t.Logf("%d acknowledged leases survived SIGKILL", len(acked))
}
