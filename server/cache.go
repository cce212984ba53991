package server

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/seskit/ses/tool"
)

// tokenCache remembers opened tokens by the digest of their text, so a token
// presented again costs no RSA work. It holds at most max tokens and never
// one past its expiry (with the verifier's leeway).
type tokenCache struct {
	mu     sync.Mutex
	max    int
	tokens map[[sha256.Size]byte]*tool.Token
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, tokens: make(map[[sha256.Size]byte]*tool.Token)}
}

func (c *tokenCache) get(digest [sha256.Size]byte, now time.Time) *tool.Token {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.tokens[digest]
	if !ok {
		return nil
	}
	if !now.Before(t.Claims.Expiry.Add(tool.Leeway)) {
		delete(c.tokens, digest)
		return nil
	}
	return t
}

func (c *tokenCache) put(t *tool.Token, now time.Time) {
	if !now.Before(t.Claims.Expiry.Add(tool.Leeway)) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.tokens) >= c.max {
		for d, old := range c.tokens {
			if !now.Before(old.Claims.Expiry.Add(tool.Leeway)) {
				delete(c.tokens, d)
			}
		}
		// Still full of live tokens: drop an arbitrary one (map order).
		for d := range c.tokens {
			if len(c.tokens) < c.max {
				break
			}
			delete(c.tokens, d)
		}
	}
	c.tokens[t.Digest] = t
}
