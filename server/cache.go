package server

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/seskit/ses/tool"
)

// tokenCacheSize bounds the opened tokens kept: a few MiB, far more distinct
// tokens than the nodes of a test pool present at once.
const tokenCacheSize = 10_000

// tokenCache remembers opened tokens by the SHA-256 digest of their text, so
// a token presented again costs no RSA work. It holds at most max tokens,
// forgetting the oldest first (constant time, no scan), and never answers
// with a token past its expiry (with the verifier's leeway).
type tokenCache struct {
	mu     sync.Mutex
	tokens map[[sha256.Size]byte]*tool.Token
	order  [][sha256.Size]byte // ring of digests in insertion order
	next   int                 // the ring slot written next
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{tokens: make(map[[sha256.Size]byte]*tool.Token), order: make([][sha256.Size]byte, 0, max)}
}

func live(t *tool.Token, now time.Time) bool { return now.Before(t.Claims.Expiry.Add(tool.Leeway)) }

func (c *tokenCache) get(digest [sha256.Size]byte, now time.Time) *tool.Token {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.tokens[digest]
	if !ok {
		return nil
	}
	if !live(t, now) {
		delete(c.tokens, digest)
		return nil
	}
	return t
}

func (c *tokenCache) put(t *tool.Token, now time.Time) {
	if !live(t, now) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.tokens[t.Digest]; ok {
		return // opened twice at once; the first is as good
	}
	if len(c.order) < cap(c.order) {
		c.order = append(c.order, t.Digest)
	} else {
		// The ring is full: the oldest token gives way (unless get dropped
		// it already as expired; an expired token never comes back).
		delete(c.tokens, c.order[c.next])
		c.order[c.next] = t.Digest
		c.next = (c.next + 1) % cap(c.order)
	}
	c.tokens[t.Digest] = t
}
