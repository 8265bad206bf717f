package proxy

import (
	"net"
	"sync"
)

// handoffListener is how the fast path gives a client connection to net/http: a request it
// does not handle itself (HTTP/2 prior knowledge, an upgrade, Expect, a chunked body,
// anything malformed) is left unread in the connection's buffer, and the connection, which
// replays that buffer first (sniffConn.pending), is "accepted" here by the listener's
// http.Server, which serves it from then on.
type handoffListener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newHandoffListener(addr net.Addr) *handoffListener {
	return &handoffListener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

// handoff passes c to the http.Server; false when it has shut down (c is then the caller's).
func (l *handoffListener) handoff(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return l.addr }
