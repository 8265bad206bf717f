package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"tenbin/realserver/toa"
)

// clientListener accepts client connections and prepares them off the accept path: it takes
// the client address from the SYN's TOA option or reads the PROXY v2 header when the
// listener expects one, and completes the TLS handshake, so a
// slow or hostile client never holds up Accept. Handshakes are counted here, which is the
// only place that sees both their successes and their failures.
type clientListener struct {
	inner       net.Listener
	name        string
	tlsConfig   *tls.Config // nil: plain
	acceptProxy bool
	acceptTOA   bool          // the listener saves SYNs (toa.SaveSYN)
	timeout     time.Duration // PROXY header + handshake
	m           *metrics
	log         *slog.Logger

	ready     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
	pending   sync.WaitGroup
}

func newClientListener(inner net.Listener, name string, tlsConfig *tls.Config, acceptProxy, acceptTOA bool,
	timeout time.Duration, m *metrics, log *slog.Logger) *clientListener {
	l := &clientListener{
		inner: inner, name: name, tlsConfig: tlsConfig, acceptProxy: acceptProxy, acceptTOA: acceptTOA,
		timeout: timeout, m: m, log: log,
		ready: make(chan net.Conn), done: make(chan struct{}),
	}
	go l.acceptLoop()
	return l
}

func (l *clientListener) acceptLoop() {
	var backoff time.Duration
	for {
		c, err := l.inner.Accept()
		if err != nil {
			select {
			case <-l.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				l.Close()
				return
			}
			// Out of file descriptors and the like: back off as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			l.log.Warn("accept", "listener", l.name, "err", err)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		l.pending.Go(func() { l.prepare(c) })
	}
}

// prepare turns a raw connection into what the server expects, or closes it.
func (l *clientListener) prepare(c net.Conn) {
	if l.acceptProxy || l.tlsConfig != nil {
		_ = c.SetDeadline(time.Now().Add(l.timeout))
	}
	if l.acceptTOA {
		// A connection from a full-NAT balancer carries the client in its SYN; one without
		// (a direct client, the balancer's own health check) keeps its peer address.
		if ap, err := toa.FromConn(c); err == nil {
			c = &addrConn{Conn: c, remote: &addrPortAddr{ap}, local: c.LocalAddr()}
		} else if !errors.Is(err, toa.ErrNoTOA) {
			l.log.Debug("toa", "listener", l.name, "remote", c.RemoteAddr().String(), "err", err)
		}
	}
	if l.acceptProxy {
		src, dst, ok, err := readProxyHeader(c)
		if err != nil {
			l.m.handshakeErrors.WithLabelValues(l.name).Inc()
			l.log.Debug("proxy header", "listener", l.name, "remote", c.RemoteAddr().String(), "err", err)
			c.Close()
			return
		}
		if ok {
			c = &addrConn{Conn: c, remote: &addrPortAddr{src}, local: &addrPortAddr{dst}}
		}
	}
	if l.tlsConfig != nil {
		tc := tls.Server(c, l.tlsConfig)
		ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			l.m.handshakeErrors.WithLabelValues(l.name).Inc()
			l.log.Debug("tls handshake", "listener", l.name, "remote", c.RemoteAddr().String(), "err", err)
			c.Close()
			return
		}
		l.m.handshakes.WithLabelValues(l.name).Inc()
		c = tc
	} else {
		c = &sniffConn{Conn: c}
	}
	_ = c.SetDeadline(time.Time{})
	select {
	case l.ready <- c:
	case <-l.done:
		c.Close()
	}
}

func (l *clientListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting; connections still in their handshake are closed.
func (l *clientListener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		close(l.done)
		err = l.inner.Close()
	})
	return err
}

func (l *clientListener) Addr() net.Addr { return l.inner.Addr() }
