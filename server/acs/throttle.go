package acs

import (
	"crypto/sha256"
	"net"
	"net/netip"
	"sync"
	"time"
)

// The back-off after failed authentications, per issuer name and per
// peer: the first freeFailures cost nothing, then each failure shuts the
// door for twice as long as the one before, from firstDelay up to maxDelay.
// A success, or forgetAfter without a failure, opens it again.
const (
	freeFailures = 3
	firstDelay   = time.Second
	maxDelay     = time.Minute
	forgetAfter  = 15 * time.Minute
	maxTracked   = 10000
)

// throttle counts failed authentications by key: issuerKey(NAME) (for
// every name tried, so that a name that does not exist behaves as one that
// does) and peerKey(ADDRESS).
type throttle struct {
	mu      sync.Mutex
	entries map[string]*failures
}

type failures struct {
	count int
	last  time.Time // of the last failure
	until time.Time // no attempt before
}

func newThrottle() *throttle { return &throttle{entries: map[string]*failures{}} }

// wait reports how long the callers of keys must still wait, 0 when they
// may try now.
func (t *throttle) wait(now time.Time, keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		if f := t.entries[k]; f != nil && f.until.After(now) {
			wait = max(wait, f.until.Sub(now))
		}
	}
	return wait
}

// fail counts a failure for each key.
func (t *throttle) fail(now time.Time, keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		f := t.entries[k]
		if f != nil && now.Sub(f.last) > forgetAfter {
			f = nil
		}
		if f == nil {
			t.makeRoom(now)
			f = &failures{}
			t.entries[k] = f
		}
		f.count++
		f.last = now
		if n := f.count - freeFailures; n > 0 {
			d := maxDelay
			if n <= 6 { // 1s << 6 > maxDelay
				d = min(firstDelay<<(n-1), maxDelay)
			}
			f.until = now.Add(d)
		}
	}
}

// succeed forgets the failures of keys.
func (t *throttle) succeed(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		delete(t.entries, k)
	}
}

// makeRoom keeps the table bounded: when full, it drops the entries that
// have been forgotten, and if none has, the one idle longest.
func (t *throttle) makeRoom(now time.Time) {
	if len(t.entries) < maxTracked {
		return
	}
	var oldest string
	for k, f := range t.entries {
		if now.Sub(f.last) > forgetAfter {
			delete(t.entries, k)
		} else if oldest == "" || f.last.Before(t.entries[oldest].last) {
			oldest = k
		}
	}
	if len(t.entries) >= maxTracked {
		delete(t.entries, oldest)
	}
}

// issuerKey is the throttle key of an issuer name: a digest, so that long
// names tried cost no more memory than short ones.
func issuerKey(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "issuer\x00" + string(sum[:])
}

// peerKey is the throttle key of a remote address: the IPv4 address, or
// the IPv6 /64 (one host commonly holds a whole /64).
func peerKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return "peer\x00" + host
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return "peer\x00" + p.String()
	}
	return "peer\x00" + a.String()
}
