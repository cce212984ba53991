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
	"github.com/seskit/ses/tool"
)

// childStore, in the environment, makes the test binary a `ses server
// --state` child on that store, for TestKillKeepsAcknowledgedLeases.
const childStore = "SES_TEST_CHILD_STORE"

func TestMain(m *testing.M) {
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
	os.Exit(m.Run())
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
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if m := listening.FindStringSubmatch(lines.Text()); m != nil {
			go io.Copy(io.Discard, out)
			return cmd, m[1]
		}
	}
	t.Fatalf("the server child did not start: %v", lines.Err())
	return nil, ""
}

// TestKillKeepsAcknowledgedLeases kills a --state server (SIGKILL) while
// acquisitions are in flight, restarts it on the same file, and renews
// every lease a client was told about: none may be lost.
func TestKillKeepsAcknowledgedLeases(t *testing.T) {
	dir := t.TempDir()
	pki, err := (&tool.Store{Dir: dir}).Dev()
	if err != nil {
		t.Fatal(err)
	}
	tok, roots := devToken(t, pki)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}

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
	<-stopped
	child.Process.Kill() // SIGKILL, requests in flight
	child.Wait()
	wg.Wait()

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
