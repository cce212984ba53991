package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/csv"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the scripts set TZ, whatever the machine has

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/seskit/ses/internal/contract"
	"github.com/seskit/ses/internal/testmain"
	"github.com/seskit/ses/internal/testpki"
	"github.com/seskit/ses/tool"
	"github.com/seskit/ses/wrapauth/reverser"
)

func TestMain(m *testing.M) {
	testmain.Start()
	testscript.Main(scriptsMain{m}, map[string]func(){
		"ses":       func() { os.Exit(run("ses", os.Args[1:], os.Stdout, os.Stderr)) },
		"sestest":   func() { os.Exit(run("sestest", os.Args[1:], os.Stdout, os.Stderr)) },
		"sesclient": func() { os.Exit(run("sesclient", os.Args[1:], os.Stdout, os.Stderr)) },
		"reverser":  func() { os.Exit(reverser.Main(os.Args[1:], os.Stderr)) },
	})
}

// scriptsMain runs the tests with one parallel test more than there are
// CPUs, unless -test.parallel says otherwise: a script mostly waits, on
// its commands or on a server's answers, retries and leases, and the one
// more keeps the CPUs busy meanwhile.
type scriptsMain struct{ m *testing.M }

// Run sets -test.parallel and runs the tests.
func (s scriptsMain) Run() int {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", strconv.Itoa(runtime.GOMAXPROCS(0)+1))
	}
	return s.m.Run()
}

// buildSes builds the ses binary the scripts run into dir, as this test
// binary was built (-race, -tags, CGO_ENABLED), with sestest and sesclient
// links beside it. The scripts run the real binary rather than this one,
// which also holds what only the tests use: the OpenAPI checker's JSON
// Schema library compiles its meta-schemas as it starts, a third of the
// start-up of each command under -race. When the test measures coverage,
// it builds nothing: the scripts run this binary as ses, whose counters
// are the ones go test reads.
func buildSes(dir string) error {
	if testing.CoverMode() != "" {
		return nil
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return errors.New("the test binary has no build information")
	}
	exe := filepath.Join(dir, "ses")
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	args := []string{"build", "-o", exe, "-ldflags=-w"} // no DWARF: a shorter link
	env := os.Environ()
	for _, s := range info.Settings {
		switch s.Key {
		case "-race", "-msan", "-asan":
			if s.Value == "true" {
				args = append(args, s.Key)
			}
		case "-tags":
			args = append(args, "-tags="+s.Value)
		case "CGO_ENABLED":
			env = append(env, "CGO_ENABLED="+s.Value)
		}
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(cmd.Args[1:], " "), err, out)
	}
	for _, name := range []string{"sestest", "sesclient"} {
		if err := os.Link(exe, filepath.Join(dir, name+filepath.Ext(exe))); err != nil {
			return err
		}
	}
	return nil
}

// devStore is the development PKI the scripts start with, made once by the
// real store code and copied into each script's $SES_HOME: making an RSA
// PKI per script would be most of the suite's time.
var devStore = testpki.Store{Make: func(dir string) error {
	_, err := (&tool.Store{Dir: dir}).Dev()
	return err
}}

// freshStore, as a script's first line, makes it start with an empty
// $SES_HOME: the scripts that test making the PKI.
const freshStore = "# fresh-store"

// patience bounds the whole run: a command or a background process still
// running then is stopped (SIGQUIT, then SIGKILL) and its script fails. The
// run takes well under a minute; only a hang reaches the bound.
const patience = 5 * time.Minute

// TestScripts runs the end-to-end scripts in testdata/*.txtar against the
// real command, built by buildSes. Each script gets its own store in
// $SES_HOME, holding a copy of the shared development PKI unless the script
// starts with freshStore.
func TestScripts(t *testing.T) {
	t.Parallel() // beside the other long test, TestCommandRootAnswersAlike
	t.Cleanup(func() {
		if err := devStore.Remove(); err != nil {
			t.Error(err)
		}
	})
	bin := t.TempDir()
	built := sync.OnceValue(func() error { return buildSes(bin) })
	go built() // while the first scripts make and copy the development PKI
	deadline := time.Now().Add(patience)
	if d, ok := t.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	testscript.Run(t, testscript.Params{
		Dir:      "testdata",
		Deadline: deadline,
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", bin+string(os.PathListSeparator)+env.Getenv("PATH"))
			store := filepath.Join(env.WorkDir, "store")
			env.Setenv("SES_HOME", store)
			interop, err := filepath.Abs("testdata/interop")
			if err != nil {
				return err
			}
			env.Setenv("INTEROP", interop)
			name := strings.TrimPrefix(env.T().(interface{ Name() string }).Name(), t.Name()+"/")
			script, err := os.ReadFile(filepath.Join("testdata", name+".txtar"))
			if err != nil {
				return err
			}
			if first, _, _ := strings.Cut(string(script), "\n"); strings.TrimSpace(first) != freshStore {
				if err := devStore.CopyTo(store); err != nil {
					return err
				}
			}
			return built()
		},
		RequireExplicitExec: true,
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"exits":       exits,
			"devpki":      devpki,
			"thumbprint":  thumbprint,
			"waitbody":    waitbody,
			"serverurl":   serverurl,
			"https":       httpsCmd,
			"jsonvar":     jsonvar,
			"jsonout":     jsonout,
			"proxy":       proxy,
			"refusedport": refusedport,
			"waitlog":     waitlog,
			"csv":         csvCmd,
		},
	})
}

// exits runs a command and checks its exit code: "exits 2 ses token". Its
// output is kept for stdout and stderr checks, as after exec.
func exits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE COMMAND [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad code %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// devpki copies the shared development PKI into the store folder DIR:
// "devpki $WORK/home/.config/ses".
func devpki(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: devpki DIR")
	}
	ts.Check(devStore.CopyTo(ts.MkAbs(args[0])))
}

// scriptPKI is the development PKI of the script's store, read by the real
// store code; nil when the store has none.
func scriptPKI(ts *testscript.TestScript) *tool.DevPKI {
	store := &tool.Store{Dir: ts.Getenv("SES_HOME")}
	if store.Dir == "" || !store.HasDev() {
		return nil
	}
	pki, err := store.Dev()
	ts.Check(err)
	return pki
}

// thumbprint sets VAR to the SHA-1 thumbprint (40 hex digits) of a
// certificate of the script's development PKI, by its role: "thumbprint
// SIGN signing|encryption|tls|root|intermediate".
func thumbprint(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: thumbprint VAR signing|encryption|tls|root|intermediate")
	}
	pki := scriptPKI(ts)
	if pki == nil {
		ts.Fatalf("thumbprint: no development PKI in %s", ts.Getenv("SES_HOME"))
	}
	c, ok := map[string]*tool.Credential{
		"signing": pki.Signing, "encryption": pki.Encryption, "tls": pki.TLS,
		"root": pki.Root, "intermediate": pki.Intermediate,
	}[args[1]]
	if !ok {
		ts.Fatalf("thumbprint: no role %q; want signing, encryption, tls, root or intermediate", args[1])
	}
	ts.Setenv(args[0], c.Thumbprint().String())
}

// devClient trusts the certificates in the script store's development root
// file, when there is one: a fixture root serves as well as the PKI's.
func devClient(ts *testscript.TestScript) *http.Client {
	pool := x509.NewCertPool()
	data, err := os.ReadFile(filepath.Join(ts.Getenv("SES_HOME"), "dev", tool.DevRootFile))
	if err == nil {
		for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
			if c, err := x509.ParseCertificate(block.Bytes); err == nil && block.Type == "CERTIFICATE" {
				pool.AddCert(c)
			}
		}
	}
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
}

// poll calls try every 100 ms until it reports success or a minute has
// passed, and reports whether it succeeded. A try started within the minute
// runs to its own end (a devClient request, at most 10 s).
func poll(try func() bool) bool {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if try() {
			return true
		}
	}
	return false
}

// waitfor polls url/healthz until the server answers, for at most a minute.
func waitfor(ts *testscript.TestScript, url string) {
	up := poll(func() bool {
		resp, err := devClient(ts).Get(strings.TrimRight(url, "/") + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	if !up {
		ts.Fatalf("%s did not come up", url)
	}
}

// startedURL finds the URL in a server's "server started" log line, in the
// console format or JSON.
var startedURL = regexp.MustCompile(`server started.*\burl=(https://\S+)|"url":"(https://[^"]+)".*"message":"server started"`)

// serverurl waits for a server started in the background with --log-file
// FILE to log where it listens, sets VAR to that URL, and waits until it
// answers, for at most a minute: the way to start one on a free port.
//
//	exec ses --log-file server.log server --url https://127.0.0.1:0 &server&
//	serverurl URL server.log
func serverurl(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: serverurl VAR LOGFILE")
	}
	var url string
	started := poll(func() bool {
		data, _ := os.ReadFile(ts.MkAbs(args[1]))
		m := startedURL.FindStringSubmatch(string(data))
		if m != nil {
			url = m[1] + m[2]
		}
		return m != nil
	})
	if !started {
		ts.Fatalf("no server started line in %s", args[1])
	}
	ts.Setenv(args[0], url)
	waitfor(ts, url)
}

// waitbody polls URL until its body matches the regular expression, for at
// most a minute: "waitbody $URL/ 'Active leases \(1\)'".
func waitbody(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitbody URL REGEXP")
	}
	re, err := regexp.Compile(args[1])
	ts.Check(err)
	u, err := url.Parse(args[0])
	ts.Check(err)
	doc := contractFor(ts, u)
	matched := poll(func() bool {
		resp, err := devClient(ts).Get(args[0])
		if err != nil {
			return false
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !re.Match(body) {
			return false
		}
		checkContract(ts, doc, resp.Request, resp, body)
		return true
	})
	if !matched {
		ts.Fatalf("%s never matched %s", args[0], args[1])
	}
}

// httpsCmd sends a request trusting the development root and prints the
// status code on the first line of stdout, then the body. After the URL
// comes either a raw body (@FILE: the file's contents), or name=value pairs sent as a JSON object, where
// a value @FILE is the file's trimmed contents:
//
//	https POST $URL/softwareEntitlements?api-version=V token=@tok.txt applicationId=contosoapp
//
// $AUTH, when set, is sent as the Authorization header (@FILE: the file's
// trimmed contents).
func httpsCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: https METHOD URL [BODY | NAME=VALUE...]")
	}
	var body io.Reader
	if rest := args[2:]; len(rest) == 1 && strings.HasPrefix(rest[0], "@") {
		body = strings.NewReader(ts.ReadFile(rest[0][1:]))
	} else if len(rest) == 1 && !strings.Contains(rest[0], "=") || len(rest) > 0 && strings.HasPrefix(rest[0], "{") {
		body = strings.NewReader(rest[0])
	} else if len(rest) > 0 {
		obj := map[string]string{}
		for _, kv := range rest {
			k, v, _ := strings.Cut(kv, "=")
			if strings.HasPrefix(v, "@") {
				v = strings.TrimSpace(ts.ReadFile(v[1:]))
			}
			obj[k] = v
		}
		b, _ := json.Marshal(obj)
		body = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(args[0], args[1], body)
	ts.Check(err)
	req.Header.Set("Content-Type", "application/json; odata=minimalmetadata")
	if auth := ts.Getenv("AUTH"); auth != "" {
		if strings.HasPrefix(auth, "@") {
			auth = strings.TrimSpace(ts.ReadFile(auth[1:]))
		}
		req.Header.Set("Authorization", auth)
	}
	doc := contractFor(ts, req.URL)
	resp, err := devClient(ts).Do(req)
	if err != nil {
		if neg {
			return
		}
		ts.Fatalf("%v", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	fmt.Fprintf(ts.Stdout(), "%d\n%s\n", resp.StatusCode, data)
	if neg {
		ts.Fatalf("https: the request went through")
	}
	checkContract(ts, doc, req, resp, data)
}

// openAPIFile is the document a ses server's answers are checked against.
const openAPIFile = "server/openapi.json"

// contractFor returns the checker of openapi.json for a request to u if
// the server there serves the document (a ses server; the reverser does
// not), else nil. Whether it does is asked once per script and origin,
// before the request (a server may stop after it), and the document it
// serves must be the file.
func contractFor(ts *testscript.TestScript, u *url.URL) *contract.Checker {
	c, err := contract.Load(func() ([]byte, error) { return os.ReadFile(openAPIFile) })
	ts.Check(err)
	origin := u.Scheme + "://" + u.Host
	known := strings.Fields(ts.Getenv("CONTRACT_ORIGINS"))
	switch {
	case slices.Contains(known, origin+"=yes"):
		return c
	case slices.Contains(known, origin+"=no"):
		return nil
	}
	served, err := devClient(ts).Get(origin + tool.PathOpenAPI)
	if err != nil {
		return nil // nothing there (yet); the request will tell
	}
	doc, _ := io.ReadAll(served.Body)
	served.Body.Close()
	mark := "=no"
	if served.StatusCode == http.StatusOK {
		if want, err := os.ReadFile(openAPIFile); err != nil || !bytes.Equal(doc, want) {
			ts.Fatalf("%s%s is not %s", origin, tool.PathOpenAPI, openAPIFile)
		}
		mark = "=yes"
	}
	ts.Setenv("CONTRACT_ORIGINS", strings.Join(append(known, origin+mark), " "))
	if mark == "=no" {
		return nil
	}
	return c
}

// checkContract fails the script when an answer breaks the document of
// c, if c is not nil.
func checkContract(ts *testscript.TestScript, c *contract.Checker, req *http.Request, resp *http.Response, body []byte) {
	if c == nil {
		return
	}
	if err := c.Check(req, resp.StatusCode, resp.Header, body); err != nil {
		ts.Fatalf("contract: %v", err)
	}
}

// jsonvar sets VAR to a string field of the JSON body the last https
// command printed: "jsonvar ID entitlementId".
func jsonvar(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: jsonvar VAR FIELD")
	}
	_, body, _ := strings.Cut(ts.ReadFile("stdout"), "\n")
	var m map[string]any
	ts.Check(json.Unmarshal([]byte(body), &m))
	v, ok := m[args[1]].(string)
	if !ok {
		ts.Fatalf("no string field %q in %s", args[1], body)
	}
	ts.Setenv(args[0], v)
}

// jsonout parses the last command's stdout as exactly one JSON object and
// checks its fields: KEY=VALUE that the field is VALUE (a string, or a
// number or boolean as JSON writes it), KEY~REGEXP that it matches, and
// VAR:=KEY sets VAR to it.
//
//	jsonout outcome=denied exit=1 error~'^denied' ID:=id
func jsonout(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("usage: jsonout [KEY=VALUE | KEY~REGEXP | VAR:=KEY]...")
	}
	dec := json.NewDecoder(strings.NewReader(ts.ReadFile("stdout")))
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		ts.Fatalf("stdout is not a JSON object: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		ts.Fatalf("stdout holds more than one JSON value")
	}
	field := func(key string) string {
		v, ok := m[key]
		if !ok {
			ts.Fatalf("no field %q in %v", key, m)
		}
		if s, ok := v.(string); ok {
			return s
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	for _, a := range args {
		if v, k, ok := strings.Cut(a, ":="); ok {
			ts.Setenv(v, field(k))
		} else if k, want, ok := strings.Cut(a, "="); ok {
			if got := field(k); got != want {
				ts.Fatalf("%s is %q, want %q", k, got, want)
			}
		} else if k, re, ok := strings.Cut(a, "~"); ok {
			if got := field(k); !regexp.MustCompile(re).MatchString(got) {
				ts.Fatalf("%s is %q, which does not match %s", k, got, re)
			}
		} else {
			ts.Fatalf("jsonout: bad argument %q", a)
		}
	}
}

// proxy starts an HTTP CONNECT proxy for the rest of the script that
// tunnels every CONNECT, whatever host it names, to the host and port of
// URL, and sets VAR to its URL: with HTTPS_PROXY=$VAR a client reaches a
// server on this machine under any name, a Batch host's included.
//
//	proxy PROXY $URL
func proxy(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: proxy VAR URL")
	}
	u, err := url.Parse(args[1])
	ts.Check(err)
	target := u.Host
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		up, err := net.DialTimeout("tcp", target, 10*time.Second)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			up.Close()
			return
		}
		conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		go func() { io.Copy(up, buf); up.Close() }()
		io.Copy(conn, up)
		conn.Close()
	})}
	go srv.Serve(l)
	ts.Defer(func() { srv.Close() })
	ts.Setenv(args[0], "http://"+l.Addr().String())
}

// waitlog waits, for at most a minute, until FILE holds at least N
// (default 1) matches of the regular expression: "waitlog server.log
// 'namespace reloaded' 2".
func waitlog(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: waitlog FILE REGEXP [N]")
	}
	re, err := regexp.Compile(args[1])
	ts.Check(err)
	n := 1
	if len(args) == 3 {
		n, err = strconv.Atoi(args[2])
		ts.Check(err)
	}
	matched := poll(func() bool {
		data, _ := os.ReadFile(ts.MkAbs(args[0]))
		return len(re.FindAll(data, -1)) >= n
	})
	if !matched {
		ts.Fatalf("%s never held %d matches of %s", args[0], n, args[1])
	}
}

// csvCmd parses FILE as CSV, every row with as many fields as the first,
// and prints the rows with the fields joined by "|", so stdout can match
// them: "csv usage.csv".
func csvCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: csv FILE")
	}
	rows, err := csv.NewReader(strings.NewReader(ts.ReadFile(args[0]))).ReadAll()
	if err != nil {
		ts.Fatalf("%s is not CSV: %v", args[0], err)
	}
	for _, row := range rows {
		fmt.Fprintln(ts.Stdout(), strings.Join(row, "|"))
	}
}
