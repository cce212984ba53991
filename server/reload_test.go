//go:build unix

package server

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
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

const reloadNamespace = `issuer: https://ses-acs.localhost/
issuers:
  - name: agent
    key: zOT21KxyIjvk299o2cIlU987B3/3KbH/cZf0W8DNO0Q=
tokenPolicies:
  - name: p
    key: q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=
scopes:
  - appliesTo: https://svc.example/a
    tokenPolicy: p
    rules:
      - input: {issuer: agent, type: Issuer, value: agent}
        output: {type: action, value: use}
`

// TestRunReloadsNamespace starts the command with --acs, holds a lease and
// keeps asking for tokens while the namespace file changes: SIGHUP puts
// the new namespace in force, a broken one is logged and refused, and no
// request or lease is lost on the way.
func TestRunReloadsNamespace(t *testing.T) {
	var stdout, log syncBuffer
	g := &cli.Globals{Store: t.TempDir(), Stdout: &stdout, Stderr: io.Discard, Getenv: func(string) string { return "" },
		Now: time.Now, Log: zerolog.New(&log)}
	pki := devPKI(t, g.Store)
	nsPath := filepath.Join(t.TempDir(), "ns.yaml")
	replace := func(text string) {
		if err := tool.WriteFileAtomic(nsPath, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	replace(reloadNamespace)
	c := &Cmd{URL: "https://127.0.0.1:0", Connection: "dev", KeyFlags: cli.KeyFlags{Sign: "dev", Encrypt: "dev"},
		Audience: tool.DefaultAudience, Issuer: tool.DefaultIssuer, MaxLease: time.Hour, ACS: nsPath}
	done := make(chan error, 1)
	go func() { done <- c.Run(g) }()
	base := waitFor(t, &stdout, regexp.MustCompile(`listening on (https://\S+)`))[1]
	tok, roots := devToken(t, pki)
	client := &http.Client{Timeout: patience, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	wrap := func(scope string) int {
		resp, err := client.PostForm(base+"/WRAPv0.9/", url.Values{"wrap_name": {"agent"}, "wrap_password": {"zOT21KxyIjvk299o2cIlU987B3/3KbH/cZf0W8DNO0Q="}, "wrap_scope": {scope}})
		if err != nil {
			return 0
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		checkAnswer(t, resp, body)
		return resp.StatusCode
	}
	post := func(path, body string) (int, map[string]string) {
		resp, err := client.Post(base+path+"?api-version=9999-09-09.99.99", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(resp.Body)
		checkAnswer(t, resp, answer)
		var m map[string]string
		json.Unmarshal(answer, &m)
		return resp.StatusCode, m
	}
	status, lease := post("/softwareEntitlements", leaseBody(tok, "contosoapp", "PT10M"))
	if status != 200 {
		t.Fatalf("acquire: %d %v", status, lease)
	}
	if got := wrap("https://svc.example/b"); got != 400 {
		t.Fatalf("scope b before the change: %d, want 400", got)
	}

	// Tokens are asked for all along.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var asked, failed int
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			got := wrap("https://svc.example/a")
			mu.Lock()
			asked++
			if got != 200 {
				failed++
			}
			mu.Unlock()
		}
	}()
	// until waits, for at most a minute, for the log to hold a match of re.
	until := func(re *regexp.Regexp) {
		t.Helper()
		for i := 0; !re.MatchString(log.String()); i++ {
			if i == 6000 {
				t.Fatalf("no %s in the log within a minute:\n%s", re, log.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	reloaded := regexp.MustCompile(`"message":"namespace reloaded"`)
	refused := regexp.MustCompile(`namespace not reloaded`)

	// A new scope, and SIGHUP.
	replace(reloadNamespace + `  - appliesTo: https://svc.example/b
    tokenPolicy: p
    rules:
      - input: {issuer: agent, type: Issuer, value: agent}
        output: {type: action, value: use}
`)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	until(reloaded)
	if got := wrap("https://svc.example/b"); got != 200 {
		t.Errorf("scope b after the reload: %d, want 200", got)
	}

	// A broken file: refused with its line, the namespace in force stays.
	replace(strings.Replace(reloadNamespace, "tokenPolicy: p", "tokenPolicy: nosuch", 1))
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	until(refused)
	if !strings.Contains(log.String(), `line 10: scopes.tokenPolicy: no token policy named \"nosuch\"`) {
		t.Errorf("the log does not say what is wrong:\n%s", log.String())
	}
	if got := wrap("https://svc.example/b"); got != 200 {
		t.Errorf("scope b after the broken edit: %d, want 200 (the namespace in force)", got)
	}

	close(stop)
	wg.Wait()
	if asked == 0 || failed > 0 {
		t.Errorf("%d of %d token requests during the reloads failed", failed, asked)
	}
	if status, m := post("/softwareEntitlements/"+lease["entitlementId"], `{"duration":"PT5M"}`); status != 200 {
		t.Errorf("renewing the lease after the reloads: %d %v", status, m)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := await(t, done, "Run after SIGTERM"); err != nil {
		t.Errorf("Run: %v", err)
	}
}
