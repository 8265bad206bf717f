package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// fastServer serves a plain http listener's HTTP/1.1 requests itself, one goroutine per
// client connection that reads, routes, forwards over its pooled backend connections and
// writes the answer, with no goroutine hand-off per request (net/http's server and
// transport need four goroutines and ~160 allocations a request). Whatever it does not
// handle goes, connection and unread bytes, to the listener's http.Server (handoffListener).
type fastServer struct {
	s       *Server
	cfg     ListenerConfig
	handoff *handoffListener
	active  prometheus.Gauge

	handoffs atomic.Uint64 // connections given to net/http

	mu       sync.Mutex
	conns    map[*fastConn]struct{}
	shutting bool
	wg       sync.WaitGroup
}

func newFastServer(s *Server, cfg ListenerConfig, handoff *handoffListener) *fastServer {
	return &fastServer{s: s, cfg: cfg, handoff: handoff, active: s.m.activeConns.WithLabelValues(cfg.Name),
		conns: map[*fastConn]struct{}{}}
}

// serve accepts until l is closed.
func (fs *fastServer) serve(l net.Listener) error {
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		sc, ok := c.(*sniffConn)
		if !ok {
			sc = &sniffConn{Conn: c}
		}
		fc := newFastConn(fs, sc)
		fs.mu.Lock()
		if fs.shutting {
			fs.mu.Unlock()
			c.Close()
			continue
		}
		fs.conns[fc] = struct{}{}
		fs.wg.Add(1)
		fs.mu.Unlock()
		go func() {
			defer fs.wg.Done()
			fc.serve()
			fs.mu.Lock()
			delete(fs.conns, fc)
			fs.mu.Unlock()
		}()
	}
}

// shutdown closes idle connections as they become idle and waits for the others to finish
// their request; when ctx ends first it cuts them.
func (fs *fastServer) shutdown(ctx context.Context) error {
	fs.mu.Lock()
	fs.shutting = true
	fs.mu.Unlock()
	done := make(chan struct{})
	go func() { fs.wg.Wait(); close(done) }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		fs.closeConns(false)
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			fs.closeConns(true)
			<-done
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// closeConns closes the idle connections, or all of them.
func (fs *fastServer) closeConns(all bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for fc := range fs.conns {
		if all || fc.state.CompareAndSwap(connIdle, connClosed) {
			fc.c.Close()
		}
		if bc := fc.upstream.Load(); all && bc != nil {
			bc.Close() // a request waiting for its backend is cut too
		}
	}
}

// States of a fast connection, for shutdown to close only idle ones.
const (
	connIdle int32 = iota
	connActive
	connClosed
)

// fastConn is one client connection on the fast path.
type fastConn struct {
	fs       *fastServer
	c        *sniffConn
	br       *bufio.Reader
	bw       *bufio.Writer
	state    atomic.Int32
	remote   string // RemoteAddr, as net/http's Request.RemoteAddr
	clientIP string
	source   netip.Addr

	head       reqHead  // the request being served
	resp       respHead // its response, reused
	ex         exchange
	tried      [4]*backend                 // backing array of the backends a request tried
	clientGone bool                        // reading the request body from the client failed
	headUsed   bool                        // the head was discarded from br (its slices are stale)
	upstream   atomic.Pointer[backendConn] // the backend connection in use, for a forced shutdown
	// What rewrite's SetXForwarded and Forwarded say about this client.
	xff, forwardedFor string
}

// clientReadBuffer bounds the request head the fast path reads; a longer one goes to net/http.
const clientReadBuffer = 8 << 10

func newFastConn(fs *fastServer, c *sniffConn) *fastConn {
	// Writes skip sniffConn's status sniffing: it is for the answers net/http gives alone.
	fc := &fastConn{fs: fs, c: c, br: bufio.NewReaderSize(c, clientReadBuffer), bw: bufio.NewWriterSize(c.Conn, 4<<10)}
	fc.remote = c.RemoteAddr().String()
	fc.source = sourceAddr(fc.remote)
	fc.clientIP = fc.source.String()
	if ip, _, err := net.SplitHostPort(fc.remote); err == nil {
		fc.xff = ip
	}
	fc.forwardedFor = forwardedElement(fc.remote, "", false)
	return fc
}

// serve runs the connection's requests until it closes or is handed to net/http.
func (fc *fastConn) serve() {
	fs := fc.fs
	fs.active.Inc()
	handedOff := false
	defer func() {
		if p := recover(); p != nil { // one bad request must not take the proxy down
			fs.s.log.Error("panic serving request", "listener", fs.cfg.Name, "remote", fc.remote,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
		if !handedOff {
			_ = fc.bw.Flush() // the last answer, when the connection closes after it
			fc.c.Close()
			fs.active.Dec()
		}
	}()
	first := true
	for {
		// Idle: flush what is written (responses to pipelined requests go out together), then
		// wait for the next request.
		if fc.br.Buffered() == 0 && fc.bw.Buffered() > 0 {
			if fc.bw.Flush() != nil {
				return
			}
		}
		fc.state.Store(connIdle) // shutdown closes only idle connections, and never this one before here
		t := fs.cfg.Timeouts.Idle
		if first {
			t = fs.cfg.Timeouts.ReadHeader
		}
		_ = fc.c.SetReadDeadline(time.Now().Add(t))
		_, err := fc.br.Peek(1)
		if !fc.state.CompareAndSwap(connIdle, connActive) || err != nil {
			return // closed by shutdown, by the client, or idle too long
		}
		first = false
		start := time.Now()
		st := fc.readHead(start)
		switch st {
		case headComplete:
			keep, handoff := fc.serveRequest(start)
			if handoff {
				handedOff = fc.handoff()
				return
			}
			if !keep {
				return
			}
		case headNotFast:
			handedOff = fc.handoff()
			return
		default: // the client stopped mid-headers
			fs.s.m.badRequests.WithLabelValues(fs.cfg.Name).Inc()
			fs.s.log.Warn("bad request refused before routing", "listener", fs.cfg.Name, "remote", fc.remote)
			return
		}
		fs.mu.Lock()
		shutting := fs.shutting
		fs.mu.Unlock()
		if shutting {
			return
		}
	}
}

// readHead reads until the buffer holds a whole request head (headComplete), or shows the
// request is net/http's (headNotFast); headIncomplete: the client failed or timed out.
func (fc *fastConn) readHead(start time.Time) headStatus {
	limit := min(fc.br.Size(), fc.fs.cfg.MaxHeaderBytes)
	deadlineSet := false
	for {
		buf, _ := fc.br.Peek(fc.br.Buffered())
		size, st := findHead(buf)
		if st == headComplete && size > limit {
			st = headNotFast // net/http answers 431 (or allows its slack)
		}
		if st != headIncomplete {
			if st == headComplete {
				st = fc.headParsed(buf[:size])
			}
			return st
		}
		if len(buf) >= limit {
			return headNotFast
		}
		if !deadlineSet {
			_ = fc.c.SetReadDeadline(start.Add(fc.fs.cfg.Timeouts.ReadHeader))
			deadlineSet = true
		}
		if _, err := fc.br.Peek(len(buf) + 1); err != nil {
			return headIncomplete
		}
	}
}

func (fc *fastConn) headParsed(b []byte) headStatus {
	if !fc.head.parse(b) {
		return headNotFast
	}
	return headComplete
}

// handoff gives the connection, with whatever it has read and not used, to net/http.
func (fc *fastConn) handoff() bool {
	if fc.bw.Buffered() > 0 && fc.bw.Flush() != nil {
		return false
	}
	_ = fc.c.SetDeadline(time.Time{})
	fc.c.pending = fc.br
	fc.fs.active.Dec() // net/http's ConnState counts it from here
	if fc.fs.handoff.handoff(fc.c) {
		fc.fs.handoffs.Add(1)
		return true
	}
	fc.fs.active.Inc()
	return false
}
