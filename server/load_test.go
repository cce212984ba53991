package server

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loadConn is one keep-alive HTTP/1.1 connection over TLS that sends
// prepared requests and reads the answers with as little work as it can, so
// that a load run measures the server rather than its client.
type loadConn struct {
	conn *tls.Conn
	r    *bufio.Reader
	body []byte
}

// dialLoad opens a connection to the TLS server srv.
func dialLoad(tb testing.TB, srv *httptest.Server) *loadConn {
	tb.Helper()
	conn, err := tls.Dial("tcp", srv.Listener.Addr().String(), srv.Client().Transport.(*http.Transport).TLSClientConfig)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return &loadConn{conn: conn, r: bufio.NewReaderSize(conn, 16<<10)}
}

// rawRequest is the bytes of one HTTP/1.1 request.
func rawRequest(method, path, body string) []byte {
	return fmt.Appendf(nil, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		method, path, len(body), body)
}

// do sends req and reads the answer: its status, and its body (valid until
// the next call).
func (c *loadConn) do(req []byte) (int, []byte, error) {
	if _, err := c.conn.Write(req); err != nil {
		return 0, nil, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, nil, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, nil, fmt.Errorf("status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, fmt.Errorf("status line %q", line)
	}
	length, chunked := -1, false
	for {
		h, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, nil, err
		}
		if len(h) <= 2 {
			break
		}
		if name, value, ok := bytes.Cut(h, []byte(":")); ok && bytes.EqualFold(name, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return 0, nil, fmt.Errorf("header %q", h)
			}
		}
		chunked = chunked || bytes.EqualFold(h, []byte("Transfer-Encoding: chunked\r\n"))
	}
	switch {
	case chunked:
		return status, c.chunks(), nil
	case length < 0 && status == http.StatusNoContent:
		length = 0
	case length < 0:
		return 0, nil, fmt.Errorf("status %d without Content-Length", status)
	}
	if cap(c.body) < length {
		c.body = make([]byte, length)
	}
	c.body = c.body[:length]
	_, err = io.ReadFull(c.r, c.body)
	return status, c.body, err
}

// chunks reads a chunked body; on a malformed one it returns what it read.
func (c *loadConn) chunks() []byte {
	c.body = c.body[:0]
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return c.body
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 32)
		if err != nil {
			return c.body
		}
		if size == 0 {
			c.r.ReadSlice('\n') // the empty trailer
			return c.body
		}
		start := len(c.body)
		c.body = append(c.body, make([]byte, size+2)...)
		if _, err := io.ReadFull(c.r, c.body[start:]); err != nil {
			return c.body
		}
		c.body = c.body[:len(c.body)-2] // the chunk's CRLF
	}
}

// run sends n requests over cs at once and returns how long they took.
func run(tb testing.TB, cs []*loadConn, n int, next func(i int) []byte, want int) time.Duration {
	tb.Helper()
	var (
		issued atomic.Int64
		wg     sync.WaitGroup
		failed atomic.Value
	)
	start := time.Now()
	for _, c := range cs {
		wg.Go(func() {
			for {
				i := int(issued.Add(1)) - 1
				if i >= n {
					return
				}
				status, body, err := c.do(next(i))
				if err != nil || status != want {
					failed.Store(fmt.Sprintf("request %d: %d %s %v", i, status, body, err))
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if f := failed.Load(); f != nil {
		tb.Fatal(f)
	}
	return elapsed
}

// dialAll opens n connections to srv, each sending warm first (unless nil)
// and expecting want.
func dialAll(tb testing.TB, srv *httptest.Server, n int, warm []byte, want int) []*loadConn {
	tb.Helper()
	cs := make([]*loadConn, n)
	for i := range cs {
		cs[i] = dialLoad(tb, srv)
		if warm == nil {
			continue
		}
		if status, body, err := cs[i].do(warm); err != nil || status != want {
			tb.Fatalf("first request: %d %s %v", status, body, err)
		}
	}
	return cs
}

// percentile returns the p-th percentile (0 < p < 1) of ds, sorting them.
func percentile(ds []time.Duration, p float64) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[min(len(ds)-1, int(float64(len(ds))*p))]
}
