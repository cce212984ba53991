package server

import (
	"bytes"
	"crypto/rsa"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/seskit/ses/internal/testpki"
	"github.com/seskit/ses/tool"
	bolt "go.etcd.io/bbolt"
)

// BenchmarkLeaseMemory holds a million active leases in memory and reports
// the heap they take per lease. Each lease gets its own copy of the
// application name, as requests bring them.
func BenchmarkLeaseMemory(b *testing.B) {
	const n = 1_000_000
	now := time.Now()
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		l := NewLeases()
		fillLeases(l, n, now)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/lease")
		runtime.KeepAlive(l)
	}
}

// benchToken mints a token for contosoapp on 127.0.0.1, valid for an hour.
func benchToken(b *testing.B) string {
	sign, enc, _ := testCreds(b)
	now := time.Now()
	tok, err := tool.Seal(tool.Claims{ID: tool.NewTokenID(), Issuer: tool.DefaultIssuer, Audience: tool.DefaultAudience,
		NotBefore: now.Add(-time.Minute), Expiry: now.Add(time.Hour), IssuedAt: now,
		Applications: []string{"contosoapp"}, Addresses: []string{"127.0.0.1"}}, sign, enc.Certificate)
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

// benchHandler is the server's handler as ses server runs it, with a real
// logger at info level so that the log line is part of the cost; usage,
// when given, is its usage record (else one in memory).
func benchHandler(b *testing.B, leases *Leases, usage ...*Usage) *Handler {
	sign, enc, _ := testCreds(b)
	cfg := HandlerConfig{Verifier: &tool.Verifier{Sign: sign.Certificate, Decrypt: enc},
		MaxLease: time.Hour, Leases: leases, Log: zerolog.New(io.Discard).With().Timestamp().Logger()}
	if len(usage) > 0 {
		cfg.Usage = usage[0]
	}
	return NewHandler(cfg)
}

// baselineHandler is what the server is measured against: a plain Go
// handler that reads the body and answers constant JSON.
func baselineHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		io.WriteString(w, `{"id":"entitlement-00000000-0000-4000-8000-000000000000","expiry":"2026-11-29T00:00:00Z"}`+"\n")
	})
}

// phases are the wall and CPU times of what is measured and of its
// baseline, summed over the rounds of alternate.
type phases struct {
	took, base       time.Duration
	tookCPU, baseCPU time.Duration
}

// report reports b.N operations as a rate beside the baseline's and their
// ratio (x-NAME), and the ratio of their CPU costs (cpu-x-NAME: the
// baseline's CPU time per operation over the measured one's), which other
// work on a shared machine disturbs far less than the wall times. The CPU
// times are the whole process's: the load's client is in both.
func (p phases) report(b *testing.B, unit, baseName string) {
	rate, base := float64(b.N)/p.took.Seconds(), float64(b.N)/p.base.Seconds()
	b.ReportMetric(rate, unit)
	b.ReportMetric(base, baseName+"-"+unit)
	b.ReportMetric(rate/base, "x-"+baseName)
	if p.tookCPU > 0 {
		b.ReportMetric(float64(p.baseCPU)/float64(p.tookCPU), "cpu-x-"+baseName)
	}
}

// BenchmarkLoad drives the server over real TLS keep-alive connections,
// several at once, beside its baseline measured in the same run:
//
//	go test ./server -run XXX -bench Load -benchmem
//
//	RepeatedToken/cN  one cached token, N connections at once, against
//	                  the plain TLS handler (baselineHandler) under the
//	                  same load; allocs/op are the server's per request
//	NewToken/c8       a new token every request, against the crypto floor
//	                  (testpki.Floor) run on GOMAXPROCS goroutines, as
//	                  many as the cores the server may use (cores)
//
// Each reports req/s, the baseline's, x-baseline (or x-floor), their
// ratio, and cpu-x-baseline, the ratio of CPU per request.
func BenchmarkLoad(b *testing.B) {
	const path = "/softwareEntitlements?api-version=2017-09-01.6.0"
	for _, conns := range []int{8, 32} {
		b.Run(fmt.Sprintf("RepeatedToken/c%d", conns), func(b *testing.B) {
			b.StopTimer()
			req := rawRequest("POST", path, body(benchToken(b), "contosoapp"))
			next := func(int) []byte { return req }
			ses, base := httptest.NewTLSServer(benchHandler(b, nil)), httptest.NewTLSServer(baselineHandler())
			defer ses.Close()
			defer base.Close()
			bc, sc := dialAll(b, base, conns, req, 200), dialAll(b, ses, conns, req, 200)
			alternate(b, 500,
				func(k int) time.Duration { return run(b, sc, k, next, 200) },
				func(k int) time.Duration { return run(b, bc, k, next, 200) }).report(b, "req/s", "baseline")
		})
	}
	b.Run("NewToken/c8", func(b *testing.B) {
		b.StopTimer()
		sign, enc, _ := testCreds(b)
		reqs := make([][]byte, b.N+8)
		var wg sync.WaitGroup
		for w := range runtime.GOMAXPROCS(0) {
			wg.Go(func() {
				for i := w; i < len(reqs); i += runtime.GOMAXPROCS(0) {
					reqs[i] = rawRequest("POST", path, body(benchToken(b), "contosoapp"))
				}
			})
		}
		wg.Wait()
		round := testpki.Floor(b, sign.Key.(*rsa.PrivateKey), enc.Key.(*rsa.PrivateKey))
		ses := httptest.NewTLSServer(benchHandler(b, nil))
		defer ses.Close()
		sc := make([]*loadConn, 8)
		for i := range sc {
			sc[i] = dialLoad(b, ses)
			if status, body, err := sc[i].do(reqs[b.N+i]); err != nil || status != 200 {
				b.Fatalf("first request: %d %s %v", status, body, err)
			}
		}
		done := 0
		alternate(b, 200,
			func(k int) time.Duration {
				d := run(b, sc, k, func(i int) []byte { return reqs[done+i] }, 200)
				done += k
				return d
			},
			func(k int) time.Duration { return floorTime(b, round, k) }).report(b, "req/s", "floor")
		// The floor runs on as many goroutines as the server may use
		// cores: both are GOMAXPROCS.
		b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "cores")
	})
}

// alternate splits b.N operations into rounds of at most chunk, and runs
// each round on the baseline and then, timed, on what is measured, so that
// both see the same load of the machine. Only the measured rounds count
// for -benchmem.
func alternate(b *testing.B, chunk int, measured, baseline func(n int) time.Duration) phases {
	b.StopTimer()
	var p phases
	for done := 0; done < b.N; {
		k := min(chunk, b.N-done)
		cpu := cpuTime()
		p.base += baseline(k)
		p.baseCPU += cpuTime() - cpu
		b.StartTimer()
		cpu = cpuTime()
		p.took += measured(k)
		p.tookCPU += cpuTime() - cpu
		b.StopTimer()
		done += k
	}
	return p
}

// floorTime runs round n times on GOMAXPROCS goroutines and returns how long
// that took.
func floorTime(b *testing.B, round func() error, n int) time.Duration {
	var (
		wg   sync.WaitGroup
		next = make(chan struct{}, n)
	)
	for range n {
		next <- struct{}{}
	}
	close(next)
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for range next {
				if err := round(); err != nil {
					b.Error(err)
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// BenchmarkDurableLeases runs acquire, renew and release cycles from 32
// clients at once against a --state server (the leases and the usage
// record in the file, as ses server keeps them), beside the same against
// the in-memory lease table in the same run:
//
//	go test ./server -run XXX -bench DurableLeases
//
// It reports cycles/s with the file, memory-cycles/s without, x-memory,
// their ratio, and cpu-x-memory, the ratio of CPU per cycle; and what
// bounds the durable figure: ops/commit, the lease changes each group
// commit carried, commit-us, the wall time per commit (commits follow one
// another), write-us, the part of it bbolt spent writing pages and
// syncing them twice (from its statistics), and fsync-us, the median time
// of a 4 KiB write and fsync in the same directory, measured between the
// rounds.
func BenchmarkDurableLeases(b *testing.B) {
	const clients = 32
	b.StopTimer()
	tok := benchToken(b)
	mem := httptest.NewTLSServer(benchHandler(b, nil))
	defer mem.Close()
	dir := b.TempDir()
	leases, usage, err := OpenState(filepath.Join(dir, "state.db"), DefaultUsageRecords, DefaultUsageKeep, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	defer leases.Close()
	durable := httptest.NewTLSServer(benchHandler(b, leases, usage))
	defer durable.Close()

	mc, dc := dialAll(b, mem, clients, nil, 0), dialAll(b, durable, clients, nil, 0)
	commits, stats := lastCommit(b, leases), leases.DB().Stats().TxStats
	var syncs []time.Duration
	p := alternate(b, 500,
		func(k int) time.Duration { return leaseCycles(b, dc, k, tok) },
		func(k int) time.Duration {
			syncs = append(syncs, fsyncTimes(b, dir, 20)...)
			return leaseCycles(b, mc, k, tok)
		})
	p.report(b, "cycles/s", "memory")
	commits = lastCommit(b, leases) - commits
	after := leases.DB().Stats().TxStats
	written := after.Sub(&stats)
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	b.ReportMetric(float64(3*b.N)/float64(commits), "ops/commit")
	b.ReportMetric(us(p.took)/float64(commits), "commit-us")
	b.ReportMetric(us(written.GetWriteTime())/float64(commits), "write-us")
	b.ReportMetric(us(percentile(syncs, 0.5)), "fsync-us")
}

// lastCommit is the number of the lease file's last committed transaction.
func lastCommit(tb testing.TB, l *Leases) int {
	var id int
	if err := l.DB().View(func(tx *bolt.Tx) error { id = tx.ID(); return nil }); err != nil {
		tb.Fatal(err)
	}
	return id
}

// fsyncTimes writes 4 KiB to a file in dir and syncs it, n times, and
// returns how long each took.
func fsyncTimes(tb testing.TB, dir string, n int) []time.Duration {
	f, err := os.OpenFile(filepath.Join(dir, "fsync"), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	page := make([]byte, 4096)
	ds := make([]time.Duration, n)
	for i := range ds {
		start := time.Now()
		if _, err := f.WriteAt(page, int64(i%16)*4096); err != nil {
			tb.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			tb.Fatal(err)
		}
		ds[i] = time.Since(start)
	}
	return ds
}

// leaseCycles runs n cycles of acquire, renew and release over conns at
// once and returns how long they took.
func leaseCycles(b *testing.B, conns []*loadConn, n int, tok string) time.Duration {
	acquire := rawRequest("POST", "/softwareEntitlements"+leaseV, leaseBody(tok, "contosoapp", "PT10M"))
	idField := []byte(`"entitlementId":"`)
	var (
		wg     sync.WaitGroup
		next   = make(chan struct{}, n)
		failed = make(chan string, len(conns))
	)
	for range n {
		next <- struct{}{}
	}
	close(next)
	start := time.Now()
	for _, c := range conns {
		wg.Go(func() {
			for range next {
				status, body, err := c.do(acquire)
				i := bytes.Index(body, idField)
				if err != nil || status != 200 || i < 0 || len(body) < i+len(idField)+32 {
					failed <- fmt.Sprintf("acquire: %d %s %v", status, body, err)
					return
				}
				lease := "/softwareEntitlements/" + string(body[i+len(idField):i+len(idField)+32]) + leaseV
				if status, body, err := c.do(rawRequest("POST", lease, `{"duration":"PT5M"}`)); err != nil || status != 200 {
					failed <- fmt.Sprintf("renew: %d %s %v", status, body, err)
					return
				}
				if status, body, err := c.do(rawRequest("DELETE", lease, "")); err != nil || status != 204 {
					failed <- fmt.Sprintf("release: %d %s %v", status, body, err)
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	close(failed)
	for f := range failed {
		b.Fatal(f)
	}
	return took
}

// fullLeases is a lease table of a million active leases, made once for
// BenchmarkAcquireBesideStatus.
var fullLeases = sync.OnceValue(func() *Leases {
	l := NewLeases()
	fillLeases(l, 1_000_000, time.Now())
	return l
})

// BenchmarkAcquireBesideStatus acquires leases one after another on a
// server holding a million, first alone and then while another client
// fetches the status page's feed (what the page polls once a second, its
// newest 200 records) in a loop, and compares the 99th percentiles of the
// acquisitions' latency:
//
//	go test ./server -run XXX -bench AcquireBesideStatus -benchtime 2000x
//
// It reports p99-ms (beside the feed fetches), quiet-p99-ms (without) and
// x-quiet, their ratio, and how many feeds were fetched.
func BenchmarkAcquireBesideStatus(b *testing.B) {
	b.StopTimer()
	tok := benchToken(b)
	h := benchHandler(b, fullLeases())
	h.cfg.MaxLeasesPerToken = 1 << 30 // one token takes them all
	srv := httptest.NewTLSServer(h)
	defer srv.Close()
	acquire := rawRequest("POST", "/softwareEntitlements"+leaseV, leaseBody(tok, "contosoapp", "PT10M"))
	c := dialAll(b, srv, 1, acquire, 200)[0]
	latencies := func() []time.Duration {
		ds := make([]time.Duration, b.N)
		for i := range ds {
			start := time.Now()
			if status, body, err := c.do(acquire); err != nil || status != 200 {
				b.Fatalf("acquire: %d %s %v", status, body, err)
			}
			ds[i] = time.Since(start)
		}
		return ds
	}
	quiet := percentile(latencies(), 0.99)

	feed := rawRequest("GET", tool.PathStatusFeed, "")
	page := dialAll(b, srv, 1, feed, 200)[0]
	stop := make(chan struct{})
	fetched := make(chan int)
	go func() {
		n := 0
		defer func() { fetched <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if status, _, err := page.do(feed); err != nil || status != 200 {
				b.Errorf("status feed: %d %v", status, err)
				return
			}
			n++
		}
	}()
	b.StartTimer()
	busy := percentile(latencies(), 0.99)
	b.StopTimer()
	close(stop)
	pages := <-fetched
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(busy), "p99-ms")
	b.ReportMetric(ms(quiet), "quiet-p99-ms")
	b.ReportMetric(float64(busy)/float64(quiet), "x-quiet")
	b.ReportMetric(float64(pages), "feeds")
}

// fillLeases acquires n leases on l directly, 100 per token as a pool's
// tasks would hold them.
func fillLeases(l *Leases, n int, now time.Time) {
	remote := netip.MustParseAddr("10.0.0.1")
	var tok *tool.Token
	for i := range n {
		if i%DefaultMaxLeasesPerToken == 0 {
			tok = leaseToken(now.Add(2*time.Hour), "10.0.0.1")
		}
		if _, err := l.Acquire(tok, strings.Clone("contosoapp"), remote, now.Add(time.Hour), now, DefaultMaxLeasesPerToken); err != nil {
			panic(err)
		}
	}
}
