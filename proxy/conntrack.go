package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
)

// connTracker follows an HTTP listener's connections through http.Server's ConnState hook:
// it keeps the active-connection gauge, and notices a request net/http refused on its own
// (400 malformed, 431 headers too large, or a client that stopped mid-headers) because the
// connection closed while a request was being read and no handler ever ran. Each such
// request is counted and logged exactly once.
type connTracker struct {
	listener string
	m        *metrics
	log      *slog.Logger
	mu       sync.Mutex
	conns    map[net.Conn]*connInfo
}

type connInfo struct {
	reading atomic.Bool // a request has begun and no handler has taken it yet
}

type connInfoKey struct{}

func newConnTracker(listener string, m *metrics, log *slog.Logger) *connTracker {
	return &connTracker{listener: listener, m: m, log: log, conns: map[net.Conn]*connInfo{}}
}

func (t *connTracker) connContext(ctx context.Context, c net.Conn) context.Context {
	t.mu.Lock()
	ci := t.conns[c]
	if ci == nil {
		ci = &connInfo{}
		t.conns[c] = ci
	}
	t.mu.Unlock()
	return context.WithValue(ctx, connInfoKey{}, ci)
}

func (t *connTracker) connState(c net.Conn, s http.ConnState) {
	t.mu.Lock()
	ci := t.conns[c]
	if ci == nil {
		ci = &connInfo{}
		t.conns[c] = ci
	}
	if s == http.StateClosed || s == http.StateHijacked {
		delete(t.conns, c)
	}
	t.mu.Unlock()
	switch s {
	case http.StateNew:
		t.m.activeConns.WithLabelValues(t.listener).Inc()
	case http.StateActive:
		ci.reading.Store(!isH2(c))
	case http.StateIdle:
		ci.reading.Store(false)
	case http.StateHijacked:
		t.m.activeConns.WithLabelValues(t.listener).Dec()
	case http.StateClosed:
		t.m.activeConns.WithLabelValues(t.listener).Dec()
		if ci.reading.Load() {
			t.m.badRequests.WithLabelValues(t.listener).Inc()
			attrs := []any{"listener", t.listener, "remote", c.RemoteAddr().String()}
			if sc, ok := c.(*sniffConn); ok && sc.status.Load() != 0 {
				attrs = append(attrs, "status", sc.status.Load())
			}
			t.log.Warn("bad request refused before routing", attrs...)
		}
	}
}

// handlerStarted marks the connection's current request as taken by a handler.
func handlerStarted(ctx context.Context) {
	if ci, _ := ctx.Value(connInfoKey{}).(*connInfo); ci != nil {
		ci.reading.Store(false)
	}
}

func isH2(c net.Conn) bool {
	tc, ok := c.(*tls.Conn)
	return ok && tc.ConnectionState().NegotiatedProtocol == "h2"
}

// sniffConn remembers the status code of the last HTTP/1.x status line written on a plain
// connection, so the log line for a request net/http refused can say 400 or 431. When the
// fast path hands the connection to net/http, pending holds what it read and did not use;
// Read returns that first.
type sniffConn struct {
	net.Conn
	status  atomic.Int32
	pending *bufio.Reader
}

func (c *sniffConn) Read(b []byte) (int, error) {
	if c.pending != nil {
		if c.pending.Buffered() > 0 {
			return c.pending.Read(b) // served from the buffer alone: it never reads c again
		}
		c.pending = nil
	}
	return c.Conn.Read(b)
}

var statusPrefix = []byte("HTTP/1.")

func (c *sniffConn) Write(b []byte) (int, error) {
	if len(b) >= 12 && bytes.HasPrefix(b, statusPrefix) && b[8] == ' ' {
		if code, err := strconv.Atoi(string(b[9:12])); err == nil {
			c.status.Store(int32(code))
		}
	}
	return c.Conn.Write(b)
}
