package proxy

import (
	"bufio"
	"context"
	"net"
	"sync"
	"time"
)

// Limits of the fast path's connection pool, as newBackendTransport sets them for net/http's.
const (
	maxIdlePerBackend  = 1024
	backendIdleTimeout = 90 * time.Second
)

// backendConn is one kept-alive HTTP/1.1 connection from the fast path to a backend, with
// its buffers. While a client connection uses it, it is that connection's alone; between
// requests it waits in its backend's idle pool.
type backendConn struct {
	net.Conn
	br        *bufio.Reader
	bw        *bufio.Writer
	idleSince time.Time
	reused    bool // served a request before: it may have been closed by the backend meanwhile
}

// connPool holds a backend's idle connections, the most recently used on top (it is the one
// least likely to have been closed by the backend's idle timer).
type connPool struct {
	mu   sync.Mutex
	idle []*backendConn
}

// get returns an idle connection, or nil.
func (p *connPool) get() *backendConn {
	p.mu.Lock()
	n := len(p.idle)
	if n == 0 {
		p.mu.Unlock()
		return nil
	}
	c := p.idle[n-1]
	p.idle[n-1] = nil
	p.idle = p.idle[:n-1]
	p.mu.Unlock()
	c.reused = true
	return c
}

// put keeps c for the next request, or closes it when the pool is full.
func (p *connPool) put(c *backendConn, now time.Time) {
	c.idleSince = now
	p.mu.Lock()
	if len(p.idle) < maxIdlePerBackend {
		p.idle = append(p.idle, c)
		c = nil
	}
	p.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// reap closes the connections idle since before cutoff (all of them for a zero cutoff
// after now, as at shutdown).
func (p *connPool) reap(cutoff time.Time) {
	p.mu.Lock()
	i := 0
	for i < len(p.idle) && p.idle[i].idleSince.Before(cutoff) {
		i++
	}
	old := make([]*backendConn, i)
	copy(old, p.idle[:i])
	p.idle = append(p.idle[:0], p.idle[i:]...)
	p.mu.Unlock()
	for _, c := range old {
		c.Close()
	}
}

// dialBackend opens a new connection to b. A failure is a dialError: nothing was sent, so
// another backend may be tried.
func dialBackend(b *backend, timeout time.Duration) (*backendConn, error) {
	d := net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	c, err := d.DialContext(context.Background(), "tcp", b.address)
	if err != nil {
		return nil, &dialError{err}
	}
	return &backendConn{Conn: c, br: bufio.NewReaderSize(c, 8<<10), bw: bufio.NewWriterSize(c, 4<<10)}, nil
}

// reapIdleBackendConns closes the fast path's backend connections idle for longer than
// backendIdleTimeout until ctx ends, and then all of them.
func (s *Server) reapIdleBackendConns(ctx context.Context) {
	t := time.NewTicker(backendIdleTimeout / 6)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.forEachBackend(func(b *backend) { b.conns.reap(time.Now().Add(time.Hour)) })
			return
		case now := <-t.C:
			s.forEachBackend(func(b *backend) { b.conns.reap(now.Add(-backendIdleTimeout)) })
		}
	}
}

func (s *Server) forEachBackend(f func(*backend)) {
	for _, p := range s.pools {
		for _, b := range p.backends {
			f(b)
		}
	}
}
