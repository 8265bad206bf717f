package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"time"
)

// serveRequest answers the request whose head fc.head holds (still in the read buffer).
// keep: the connection may serve another request; handoff: the request turned out to be
// net/http's, and nothing of it was consumed.
func (fc *fastConn) serveRequest(start time.Time) (keep, handoff bool) {
	fs, h := fc.fs, &fc.head
	fc.headUsed = false
	// What is routed is the cleaned path; what is forwarded is the target as the client sent
	// it unless cleaning or ReverseProxy's query rules change it (then as net/http would).
	var u *url.URL
	var routePath, logPath, outTarget string
	if plainPath(h.path) && plainQuery(h.query) {
		routePath = string(h.path)
		logPath = routePath
	} else {
		var err error
		if u, err = url.ParseRequestURI(string(h.target)); err != nil {
			return false, true // net/http answers 400
		}
		logPath, routePath = u.Path, cleanPath(u.Path)
		out := *u
		if routePath != u.Path {
			out.Path, out.RawPath = routePath, ""
		}
		if !plainQuery(h.query) {
			v, _ := url.ParseQuery(out.RawQuery)
			out.RawQuery = v.Encode()
		}
		outTarget = out.RequestURI()
	}
	host := string(h.host)
	method := methodName(h.method)
	var r *http.Request // only for routes and pools that look into headers, cookies or query
	if fs.s.table.needsRequest {
		r = fc.request(method, host, u)
	}
	facts := requestFacts{host: requestHost(host), path: routePath, source: fc.source}
	rt := fs.s.table.lookup(r, &facts)
	ex := &fc.ex
	*ex = exchange{listener: fs.cfg.Name, route: rt, clientIP: fc.clientIP}
	if fs.cfg.Timeouts.Write > 0 {
		_ = fc.c.SetWriteDeadline(start.Add(fs.cfg.Timeouts.Write))
	}

	var code int
	var n int64
	switch {
	case rt.pool == nil:
		code, n, keep = fc.answer(ex, http.StatusNotFound, "no route")
	case !rt.pool.anyUsable():
		code, n, keep = fc.answer(ex, http.StatusServiceUnavailable, "no healthy backend")
	default:
		p := rt.pool
		if r == nil && p.needsRequest() {
			r = fc.request(method, host, u)
		}
		ex.hashKey = p.hashKey.of(r, ex.clientIP)
		if p.sticky != nil {
			if c, err := r.Cookie(p.sticky.Cookie); err == nil {
				ex.stickyName = c.Value
			}
		}
		code, n, keep = fc.forward(p, ex, method, outTarget)
		if ex.holding {
			ex.backend.active.Add(-1)
		}
	}
	recordRequest(fs.s.m, fs.s.access, requestSummary{
		listener: fs.cfg.Name, remote: fc.remote, proto: "HTTP/1.1", method: method, host: host, path: logPath,
	}, ex, code, n, time.Since(start))
	return keep, false
}

// request builds the *http.Request that header, cookie and query matchers and hash keys read.
func (fc *fastConn) request(method, host string, u *url.URL) *http.Request {
	h := &fc.head
	if u == nil {
		u = &url.URL{Path: string(h.path), RawQuery: string(h.query)}
		if len(h.query) == 0 && bytes.IndexByte(h.target, '?') >= 0 {
			u.ForceQuery = true
		}
	}
	r := &http.Request{Method: method, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: make(http.Header, len(h.fields)), Host: host, RemoteAddr: fc.remote, RequestURI: string(h.target)}
	for _, f := range h.fields {
		if requestHeaderKind(f.name) != hdrHost { // net/http keeps Host out of Header too
			r.Header.Add(textproto.CanonicalMIMEHeaderKey(string(f.name)), string(f.value))
		}
	}
	if h.contentLength > 0 {
		r.ContentLength = h.contentLength
	}
	return r
}

// forward sends the request to a backend of p (others on a connect failure when the request
// may be retried) and copies the answer back.
func (fc *fastConn) forward(p *pool, ex *exchange, method, outTarget string) (code int, n int64, keep bool) {
	h := &fc.head
	hasBody := h.contentLength > 0
	canRetry := idempotent(method) && !hasBody
	tried := fc.tried[:0]
	defer fc.upstream.Store(nil)
	fc.clientGone, fc.headUsed = false, false
	var bc *backendConn
	for attempt := 0; ; attempt++ {
		b := p.pick(ex.hashKey, ex.stickyName, tried)
		if b == nil {
			err := ex.lastErr
			if err == nil {
				err = ErrNoHealthyBackend
			}
			return fc.fail(ex, err)
		}
		if attempt > 0 {
			fc.fs.s.m.retries.WithLabelValues(ex.route.name).Inc()
		}
		b.active.Add(1)
		ex.backend, ex.holding = b, true
		t0 := time.Now()
		var err error
		bc, err = fc.roundTrip(b, p.timeouts, outTarget, canRetry)
		if err == nil {
			b.observe(time.Since(t0))
			break
		}
		ex.lastErr = err
		var de *dialError
		if !errors.As(err, &de) || !canRetry || attempt >= p.retries {
			return fc.fail(ex, err)
		}
		b.active.Add(-1)
		ex.holding = false
		tried = append(tried, b)
	}
	fc.consumeHead()
	return fc.relay(ex, bc, h.close)
}

// roundTrip sends the request on a pooled (or new) connection to b and reads the response
// head into fc.resp. A pooled connection the backend closed meanwhile is replaced by another
// when the request can be sent again (idempotent, no body): what http.Transport does.
func (fc *fastConn) roundTrip(b *backend, t PoolTimeouts, outTarget string, replayable bool) (*backendConn, error) {
	for {
		fc.resp.raw = fc.resp.raw[:0]
		bc := b.conns.get()
		if bc != nil && !bc.alive() {
			bc.Close()
			continue
		}
		if bc == nil {
			var err error
			if bc, err = dialBackend(b, t.Connect); err != nil {
				return nil, err
			}
		}
		fc.upstream.Store(bc)
		err := fc.send(bc, outTarget)
		if err == nil {
			err = fc.readResponseHead(bc, t.Response)
		}
		if err == nil {
			return bc, nil
		}
		bc.Close()
		var ne interface{ Timeout() bool }
		if bc.reused && replayable && !fc.clientGone && !(errors.As(err, &ne) && ne.Timeout()) && len(fc.resp.raw) == 0 {
			continue
		}
		return nil, err
	}
}

// send writes the request head, rewritten as rewrite does for ReverseProxy, and the body.
func (fc *fastConn) send(bc *backendConn, outTarget string) error {
	h, w := &fc.head, bc.bw
	w.Write(h.method)
	w.WriteByte(' ')
	if outTarget != "" {
		w.WriteString(outTarget)
	} else {
		w.Write(h.target)
	}
	w.WriteString(" HTTP/1.1\r\n")
	writeFields(w, h.fields)
	if h.teTrailers {
		w.WriteString("Te: trailers\r\n")
	}
	if fc.xff != "" {
		w.WriteString("X-Forwarded-For: ")
		w.WriteString(fc.xff)
		w.WriteString("\r\n")
	}
	w.WriteString("X-Forwarded-Host: ")
	w.Write(h.host)
	w.WriteString("\r\nX-Forwarded-Proto: http\r\nForwarded: ")
	w.WriteString(fc.forwardedFor)
	if bytes.IndexAny(h.host, "\";\\ ") < 0 {
		w.WriteString(`;host="`)
		w.Write(h.host)
		w.WriteByte('"')
	}
	w.WriteString("\r\n\r\n")
	if h.contentLength > 0 {
		fc.consumeHead() // the head is in w (or sent) by now
		if t := fc.fs.cfg.Timeouts.Read; t > 0 {
			_ = fc.c.SetReadDeadline(time.Now().Add(t))
		} else {
			_ = fc.c.SetReadDeadline(time.Time{})
		}
		if _, err := copyBody(w, fc.br, h.contentLength); err != nil {
			var we *writeError
			if !errors.As(err, &we) {
				fc.clientGone = true
				if errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
			}
			return err
		}
	}
	return w.Flush()
}

// readResponseHead reads the backend's answer up to its final response head, passing
// informational (1xx) responses on to the client as ReverseProxy does.
func (fc *fastConn) readResponseHead(bc *backendConn, timeout time.Duration) error {
	_ = bc.SetReadDeadline(time.Now().Add(timeout))
	for {
		if err := fc.resp.read(bc.br); err != nil {
			return err
		}
		if fc.resp.status == http.StatusSwitchingProtocols {
			return errBadResponse // tenbin never asked for an upgrade here
		}
		if fc.resp.status >= 200 {
			break
		}
		fc.writeResponseHead(nil, false)
	}
	return bc.SetReadDeadline(time.Time{})
}

// relay writes the response head and copies the body to the client, then pools bc again
// when the response ended cleanly.
func (fc *fastConn) relay(ex *exchange, bc *backendConn, clientClose bool) (code int, n int64, keep bool) {
	resp := &fc.resp
	ex.status = resp.status
	bodyless := resp.bodyless(fc.head.method)
	toEOF := !bodyless && !resp.chunked && resp.contentLength < 0
	fc.fs.mu.Lock()
	shutting := fc.fs.shutting
	fc.fs.mu.Unlock()
	keep = !clientClose && !toEOF && !shutting
	fc.writeResponseHead(ex, !keep)
	var err error
	switch {
	case bodyless:
	case resp.chunked:
		n, err = copyChunked(fc.bw, bc.br)
	case toEOF:
		n, err = copyBody(fc.bw, bc.br, untilEOF)
	default:
		n, err = copyBody(fc.bw, bc.br, resp.contentLength)
	}
	if err != nil || resp.close || toEOF {
		bc.Close()
	} else {
		ex.backend.conns.put(bc, time.Now())
	}
	if err != nil {
		// The head is out: all that can be done is to cut the client off, as net/http does
		// when ReverseProxy aborts.
		ex.lastErr = err
		return resp.status, n, false
	}
	return resp.status, n, keep
}

// writeResponseHead writes fc.resp's head to the client; ex nil: an informational one.
func (fc *fastConn) writeResponseHead(ex *exchange, closing bool) {
	resp, w := &fc.resp, fc.bw
	w.WriteString("HTTP/1.1 ")
	w.WriteString(strconv.Itoa(resp.status))
	w.Write(resp.reason)
	w.WriteString("\r\n")
	writeFields(w, resp.fields)
	if ex != nil {
		if resp.chunked && !resp.bodyless(fc.head.method) {
			w.WriteString("Transfer-Encoding: chunked\r\n")
		}
		if c := stickyCookie(ex, false); c != "" {
			w.WriteString("Set-Cookie: ")
			w.WriteString(c)
			w.WriteString("\r\n")
		}
		if closing {
			w.WriteString("Connection: close\r\n")
		}
	}
	w.WriteString("\r\n")
}

// writeFields writes the header fields that are not dropped. (Write errors stick in the
// bufio.Writer and come back from its Flush.)
func writeFields(w *bufio.Writer, fields []headerField) {
	for _, f := range fields {
		if !f.drop {
			w.Write(f.name)
			w.WriteString(": ")
			w.Write(f.value)
			w.WriteString("\r\n")
		}
	}
}

// fail answers a request no backend answered (see errorStatus).
func (fc *fastConn) fail(ex *exchange, err error) (code int, n int64, keep bool) {
	code = errorStatus(err, fc.clientGone)
	ex.lastErr = err
	if code == statusClientGone {
		ex.errCode = code
		return code, 0, false
	}
	return fc.answer(ex, code, http.StatusText(code))
}

// consumeHead drops the request head from the read buffer, once; the head's slices are
// not to be used after.
func (fc *fastConn) consumeHead() {
	if !fc.headUsed {
		_, _ = fc.br.Discard(fc.head.size)
		fc.headUsed = true
	}
}

// answer is the proxy's own plain-text reply, as http.Error writes it. The connection stays
// open unless a request body would have to be skipped.
func (fc *fastConn) answer(ex *exchange, code int, msg string) (int, int64, bool) {
	ex.errCode = code
	h := &fc.head
	head := string(h.method) == http.MethodHead
	fc.consumeHead()
	keep := h.contentLength <= 0 && !h.close
	w := fc.bw
	w.WriteString("HTTP/1.1 ")
	w.WriteString(strconv.Itoa(code))
	w.WriteByte(' ')
	w.WriteString(http.StatusText(code))
	w.WriteString("\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nContent-Length: ")
	w.WriteString(strconv.Itoa(len(msg) + 1))
	if !keep {
		w.WriteString("\r\nConnection: close")
	}
	w.WriteString("\r\n\r\n")
	if head {
		return code, 0, keep
	}
	w.WriteString(msg)
	w.WriteByte('\n')
	return code, int64(len(msg) + 1), keep
}

// methodName returns the method as a string, without allocating for the common ones.
func methodName(m []byte) string {
	for _, name := range commonMethods {
		if string(m) == name {
			return name
		}
	}
	return string(m)
}

var commonMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodDelete, http.MethodOptions, http.MethodPatch}
