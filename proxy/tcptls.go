package proxy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// tcpForwarder serves a tcp+tls listener: each client connection, already past its TLS
// handshake, is joined to a backend connection and bytes are copied both ways.
type tcpForwarder struct {
	name        string
	pool        *pool
	sendProxy   bool
	idleTimeout time.Duration
	m           *metrics
	log         *slog.Logger

	mu       sync.Mutex
	sessions map[net.Conn]struct{}
	wg       sync.WaitGroup
}

func (f *tcpForwarder) serve(l net.Listener) error {
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		f.mu.Lock()
		f.sessions[c] = struct{}{}
		f.mu.Unlock()
		f.wg.Go(func() {
			f.session(c)
			f.mu.Lock()
			delete(f.sessions, c)
			f.mu.Unlock()
		})
	}
}

func (f *tcpForwarder) session(client net.Conn) {
	defer client.Close()
	f.m.activeConns.WithLabelValues(f.name).Inc()
	defer f.m.activeConns.WithLabelValues(f.name).Dec()
	src := addrPortOf(client.RemoteAddr())
	key := src.Addr().Unmap().String()
	var tried []*backend
	var server net.Conn
	var b *backend
	for attempt := 0; attempt <= f.pool.retries; attempt++ {
		b = f.pool.pick(key, "", tried)
		if b == nil {
			break
		}
		start := time.Now()
		d := net.Dialer{Timeout: f.pool.timeouts.Connect}
		c, err := d.DialContext(context.Background(), "tcp", b.address)
		if err == nil {
			b.observe(time.Since(start))
			server = c
			break
		}
		f.log.Debug("tcp connect", "listener", f.name, "backend", b.name, "err", err)
		f.m.tcpSessions.WithLabelValues(f.name, b.name, "connect_error").Inc()
		tried = append(tried, b)
	}
	if server == nil {
		f.m.tcpSessions.WithLabelValues(f.name, "", "no_backend").Inc()
		return
	}
	defer server.Close()
	b.active.Add(1)
	defer b.active.Add(-1)
	f.m.tcpSessions.WithLabelValues(f.name, b.name, "ok").Inc()
	if f.sendProxy {
		hdr := appendProxyHeader(nil, src, addrPortOf(client.LocalAddr()))
		if _, err := server.Write(hdr); err != nil {
			return
		}
	}
	var last atomic.Int64 // either direction's last read, for the idle timeout
	last.Store(time.Now().UnixNano())
	done := make(chan struct{}, 1)
	go func() { f.pipe(server, client, &last); done <- struct{}{} }()
	f.pipe(client, server, &last)
	<-done
}

// pipe copies src to dst until EOF, or until neither direction has read anything for the
// idle timeout; on EOF it half-closes dst so the other direction can finish (a client may
// send its last request and wait for the answer).
func (f *tcpForwarder) pipe(dst, src net.Conn, last *atomic.Int64) {
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	for {
		if f.idleTimeout > 0 {
			_ = src.SetReadDeadline(time.Now().Add(f.idleTimeout))
		}
		n, err := src.Read(*buf)
		var ne net.Error
		if n == 0 && errors.As(err, &ne) && ne.Timeout() &&
			time.Since(time.Unix(0, last.Load())) < f.idleTimeout {
			continue // the other direction is busy
		}
		if n > 0 {
			last.Store(time.Now().UnixNano())
			if _, werr := dst.Write((*buf)[:n]); werr != nil {
				src.Close()
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				if cw, ok := dst.(interface{ CloseWrite() error }); ok {
					_ = cw.CloseWrite()
					return
				}
			}
			dst.Close()
			src.Close()
			return
		}
	}
}

// shutdown waits for sessions to end, then cuts those still open when ctx expires.
func (f *tcpForwarder) shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		f.mu.Lock()
		for c := range f.sessions {
			c.Close()
		}
		f.mu.Unlock()
		<-done
		return ctx.Err()
	}
}
