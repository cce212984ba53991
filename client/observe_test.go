package client

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seskit/ses/tool"
)

// seen records what a client's callbacks are told.
type seen struct {
	mu         sync.Mutex
	attempts   []Attempt
	handshakes []Handshake
	retries    []Retry
}

func (s *seen) observe(o *Options) {
	o.OnAttempt = func(a Attempt) { s.mu.Lock(); s.attempts = append(s.attempts, a); s.mu.Unlock() }
	o.OnHandshake = func(h Handshake) { s.mu.Lock(); s.handshakes = append(s.handshakes, h); s.mu.Unlock() }
	o.OnRetry = func(r Retry) { s.mu.Lock(); s.retries = append(s.retries, r); s.mu.Unlock() }
}

// TestCallbacks: the client tells its callbacks of each attempt, each
// chain with the pin that matched, and each retry with its cause and wait.
func TestCallbacks(t *testing.T) {
	p := newPKI(t)
	var calls atomic.Int32
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		ok(w, r)
	}, p.leaf, p.inter)
	o := s.options(p.root, p.inter)
	var got seen
	got.observe(&o)
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Check(context.Background(), "tok", "app"); err != nil {
		t.Fatal(err)
	}
	got.mu.Lock()
	attempts, retries, handshakes := got.attempts, got.retries, got.handshakes
	got.mu.Unlock()
	if len(attempts) != 3 || attempts[0].Number != 1 || attempts[2].Number != 3 || attempts[0].Method != http.MethodPost ||
		!strings.HasPrefix(attempts[0].URL, "https://"+testHost+"/softwareEntitlements?api-version=") {
		t.Errorf("attempts %+v", attempts)
	}
	if len(retries) != 2 || retries[0].Attempt != 1 || retries[1].Attempt != 2 || retries[0].Retries != DefaultRetries ||
		retries[0].Wait <= 0 || retries[0].Err == nil || !strings.Contains(retries[0].Err.Error(), "503") {
		t.Errorf("retries %+v", retries)
	}
	if len(handshakes) == 0 {
		t.Fatal("no handshake reported")
	}
	h := handshakes[0]
	if h.Host != testHost || h.Err != nil || h.Pin == nil || h.Pin.Name != "test intermediate" ||
		len(h.Chain) != 2 || !h.Chain[0].Equal(p.leaf.Certificate) {
		t.Errorf("handshake %+v", h)
	}

	// A chain that does not verify is reported with its certificates.
	o = s.options(nil, p.inter)
	var refused seen
	refused.observe(&o)
	c, _ = New(o)
	_, err = c.Check(context.Background(), "tok", "app")
	refused.mu.Lock()
	defer refused.mu.Unlock()
	if kind(err) != "untrusted" || len(refused.handshakes) != 1 || refused.handshakes[0].Err == nil || len(refused.handshakes[0].Chain) != 2 {
		t.Errorf("an untrusted chain: %v, handshakes %+v", err, refused.handshakes)
	}
}

// TestNoRetryPastTheDeadline: when the next wait would end after the
// call's deadline, the client gives up at once instead of waiting for
// nothing.
func TestNoRetryPastTheDeadline(t *testing.T) {
	p := newPKI(t)
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }, p.leaf, p.inter)
	o := s.options(p.root, p.inter)
	o.Backoff, o.Timeout = time.Hour, time.Minute
	var retried atomic.Int32
	o.OnRetry = func(Retry) { retried.Add(1) }
	c, _ := New(o)
	_, err := c.Check(context.Background(), "tok", "app")
	var u *UnreachableError
	if !errors.As(err, &u) || u.Attempts != 1 || retried.Load() != 0 {
		t.Errorf("%v (retries announced %d), want unreachable after 1 attempt", err, retried.Load())
	}
}

// TestLeaseIDsChecked: an id that is not a lease id is refused before any
// request: it would change the path the request goes to.
func TestLeaseIDsChecked(t *testing.T) {
	p := newPKI(t)
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }, p.leaf, p.inter)
	o := s.options(p.root, p.inter)
	o.APIVersion = tool.LeaseAPIVersion
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"", "a/b", "../../admin/leases", "0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdeg", "0123456789abcdef0123456789abcdef/", "%2e%2e"} {
		if _, err := c.Renew(context.Background(), id, time.Minute); !errors.Is(err, ErrLeaseID) {
			t.Errorf("Renew(%q) = %v, want ErrLeaseID", id, err)
		}
		if err := c.Release(context.Background(), id); !errors.Is(err, ErrLeaseID) {
			t.Errorf("Release(%q) = %v, want ErrLeaseID", id, err)
		}
	}
	if n := s.hits.Load(); n != 0 {
		t.Errorf("%d requests with bad ids reached the server", n)
	}
	if err := c.Release(context.Background(), "0123456789ABCDEF0123456789abcdef"); err != nil || s.hits.Load() != 1 {
		t.Errorf("a lease id was refused: %v", err)
	}
}

// TestErrorsEscapeServerText: a server's message with ESC sequences is
// escaped in the error's text, kept as sent in the field.
func TestErrorsEscapeServerText(t *testing.T) {
	d := &DeniedError{Status: 403, Code: "EntitlementDenied", Message: "no\x1b[2K\rentitled"}
	pe := &ProtocolError{Status: 500, Msg: "x\x1b]0;t\x07"}
	for _, err := range []error{d, pe} {
		if strings.ContainsAny(err.Error(), "\x1b\x07\r") {
			t.Errorf("%q", err.Error())
		}
	}
	if d.Message != "no\x1b[2K\rentitled" {
		t.Error("the message was changed")
	}
}
