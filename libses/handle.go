//go:build cgo

package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/seskit/ses/client"
	"github.com/seskit/ses/tool"
)

// maxClients bounds the clients a handle keeps, one per URL and
// api-version; past it they are all closed and made again on demand.
const maxClients = 8

// usageError is a missing or malformed argument or option
// (SES_BAD_ARGUMENTS).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// handle is what a ses_client stands for: the options of its calls and the
// clients made from them, which keep their connections for the next call.
type handle struct {
	mu      sync.Mutex
	opts    client.Options
	clients map[clientKey]*client.Client
}

type clientKey struct{ url, apiVersion string }

// newHandle returns a handle with the defaults; connectTimeout is the value
// of AZ_BATCH_SES_CURLOPT_CONNECTTIMEOUT, whole seconds, or "".
func newHandle(connectTimeout string) (*handle, error) {
	h := &handle{opts: client.Options{APIVersion: tool.DefaultAPIVersion}}
	if s := strings.TrimSpace(connectTimeout); s != "" {
		secs, err := strconv.Atoi(s)
		if err != nil || secs <= 0 {
			return nil, usagef("%s=%q: want a whole number of seconds", client.EnvConnectTimeout, s)
		}
		h.opts.ConnectTimeout = time.Duration(secs) * time.Second
	}
	return h, nil
}

// set changes the options under the lock and drops the clients made from
// the old ones; calls running on those finish with them.
func (h *handle) set(change func(o *client.Options) error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	o := h.opts
	// The slices are copied so that a change never shows through to a
	// client made before it.
	o.AllowHosts = append([]string(nil), o.AllowHosts...)
	o.ExtraPins = append([]tool.Pin(nil), o.ExtraPins...)
	o.ExtraRoots = append(o.ExtraRoots[:0:0], o.ExtraRoots...)
	if err := change(&o); err != nil {
		return err
	}
	h.opts = o
	h.closeClients()
	return nil
}

func (h *handle) closeClients() {
	for _, c := range h.clients {
		c.Close()
	}
	h.clients = nil
}

// close ends the handle's connections.
func (h *handle) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closeClients()
}

func (h *handle) addPin(thumbprint, commonName string) error {
	if strings.TrimSpace(thumbprint) == "" {
		return usagef("no thumbprint given")
	}
	if strings.Contains(thumbprint, "=") {
		return usagef("thumbprint %q: %q is not a hex digit", thumbprint, '=')
	}
	p, err := tool.ParsePin(thumbprint + "=" + commonName)
	if err != nil {
		return usagef("%v", err)
	}
	p.Name = "pinned by the caller"
	return h.set(func(o *client.Options) error {
		o.ExtraPins = append(o.ExtraPins, p)
		return nil
	})
}

func (h *handle) addCAFile(path string) error {
	if path == "" {
		return usagef("no CA file given")
	}
	c, err := tool.LoadFile(path, nil)
	if err != nil {
		return usagef("CA file: %v", err)
	}
	return h.set(func(o *client.Options) error {
		o.ExtraRoots = append(o.ExtraRoots, append(c.Chain, c.Certificate)...)
		return nil
	})
}

func (h *handle) allowHost(pattern string) error {
	pattern = strings.TrimSpace(pattern)
	if pattern == "" || pattern == "." {
		return usagef("host pattern %q is empty", pattern)
	}
	return h.set(func(o *client.Options) error {
		o.AllowHosts = append(o.AllowHosts, pattern)
		return nil
	})
}

func (h *handle) allowPinnedHosts(allow bool) error {
	return h.set(func(o *client.Options) error {
		o.PinnedHosts = allow
		return nil
	})
}

func (h *handle) setAPIVersion(v string) error {
	if _, ok := tool.LookupAPIVersion(v); !ok {
		return usagef("api-version %q is not one of the published versions", v)
	}
	return h.set(func(o *client.Options) error {
		o.APIVersion = v
		return nil
	})
}

func (h *handle) setRetries(n int) error {
	if n < 0 {
		return usagef("retries %d: want 0 or more", n)
	}
	return h.set(func(o *client.Options) error {
		o.Retries = n
		if n == 0 {
			o.Retries = -1 // Options reads 0 as the default
		}
		return nil
	})
}

func (h *handle) setTimeout(ms int64) error {
	const maxMs = int64(365 * 24 * time.Hour / time.Millisecond)
	if ms <= 0 || ms > maxMs {
		return usagef("timeout %d ms: want between 1 and %d", ms, maxMs)
	}
	return h.set(func(o *client.Options) error {
		o.Timeout = time.Duration(ms) * time.Millisecond
		return nil
	})
}

// use runs f with the client for url and the handle's api-version, or the
// leasing one, made on first use. A client that options changed while f
// ran is closed after it, so no connection outlives its client.
func (h *handle) use(url string, lease bool, f func(c *client.Client) error) error {
	if url == "" {
		return usagef("no URL given, and %s is not set", client.EnvURL)
	}
	c, key, err := h.client(url, lease)
	if err != nil {
		return err
	}
	defer func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.clients[key] != c {
			c.Close()
		}
	}()
	return f(c)
}

func (h *handle) client(url string, lease bool) (*client.Client, clientKey, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	o := h.opts
	o.URL = url
	if lease {
		o.APIVersion = tool.LeaseAPIVersion
	}
	key := clientKey{url, o.APIVersion}
	if c, ok := h.clients[key]; ok {
		return c, key, nil
	}
	c, err := client.New(o)
	if err != nil {
		return nil, key, err
	}
	if len(h.clients) >= maxClients {
		h.closeClients()
	}
	if h.clients == nil {
		h.clients = map[clientKey]*client.Client{}
	}
	h.clients[key] = c
	return c, key, nil
}

func (h *handle) check(url, token, app string) (ent *client.Entitlement, err error) {
	if err := need(token, app); err != nil {
		return nil, err
	}
	err = h.use(url, false, func(c *client.Client) error {
		ent, err = c.Check(context.Background(), token, app)
		return err
	})
	return ent, err
}

func (h *handle) acquire(url, token, app string, seconds int64) (l *client.Lease, err error) {
	if err := need(token, app); err != nil {
		return nil, err
	}
	d, err := duration(seconds)
	if err != nil {
		return nil, err
	}
	err = h.use(url, true, func(c *client.Client) error {
		l, err = c.Acquire(context.Background(), token, app, d)
		return err
	})
	return l, err
}

func (h *handle) renew(url, id string, seconds int64) (expiry time.Time, err error) {
	if id == "" {
		return time.Time{}, usagef("no lease id given")
	}
	d, err := duration(seconds)
	if err != nil {
		return time.Time{}, err
	}
	err = h.use(url, true, func(c *client.Client) error {
		expiry, err = c.Renew(context.Background(), id, d)
		return err
	})
	return expiry, err
}

func (h *handle) release(url, id string) error {
	if id == "" {
		return usagef("no lease id given")
	}
	return h.use(url, true, func(c *client.Client) error {
		return c.Release(context.Background(), id)
	})
}

func need(token, app string) error {
	switch {
	case strings.TrimSpace(token) == "":
		return usagef("no token given, and %s is not set", client.EnvToken)
	case strings.TrimSpace(app) == "":
		return usagef("no application id given")
	}
	return nil
}

// duration bounds a lease duration so that it cannot overflow.
func duration(seconds int64) (time.Duration, error) {
	const maxSeconds = int64(100 * 365 * 24 * 3600)
	if seconds <= 0 || seconds > maxSeconds {
		return 0, usagef("duration %d s: want between 1 and %d", seconds, maxSeconds)
	}
	return time.Duration(seconds) * time.Second, nil
}

// failure is what ses_error carries besides the result.
type failure struct {
	status  int
	code    string
	message string
}

// describe reads the details of err.
func describe(err error) failure {
	f := failure{message: err.Error()}
	var denied *client.DeniedError
	var protocol *client.ProtocolError
	switch {
	case errors.As(err, &denied):
		f.status, f.code = denied.Status, denied.Code
	case errors.As(err, &protocol):
		f.status = protocol.Status
	}
	return f
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
