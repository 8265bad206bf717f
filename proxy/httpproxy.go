package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"time"
)

// exchange is one client request's state as it passes the handler, the retrying transport
// and the response hooks.
type exchange struct {
	listener   string
	route      *route
	clientIP   string
	hashKey    string
	stickyName string   // backend named by the client's sticky cookie
	backend    *backend // the backend that answered (or failed last)
	holding    bool     // backend.active counts this request
	lastErr    error
	status     int // backend's status; 101 for an upgrade
	errCode    int // code the proxy answered with itself
}

type exchangeKey struct{}

func exchangeFrom(ctx context.Context) *exchange {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	return ex
}

// httpHandler routes the requests of one http or https listener.
type httpHandler struct {
	listener string
	table    *routeTable
	proxy    *httputil.ReverseProxy
	m        *metrics
	log      *slog.Logger
	access   *slog.Logger // nil: no access log
	inflight *sync.WaitGroup
}

func newReverseProxy(m *metrics, log *slog.Logger) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite:        rewrite,
		Transport:      &retryTransport{m: m},
		ErrorHandler:   proxyError,
		ModifyResponse: modifyResponse,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		BufferPool:     bufferPool{},
	}
}

func (h *httpHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	handlerStarted(r.Context())
	h.inflight.Add(1)
	defer h.inflight.Done()

	facts := requestFacts{host: requestHost(r.Host), path: r.URL.Path, source: sourceAddr(r.RemoteAddr)}
	if facts.path != "*" {
		facts.path = cleanPath(facts.path)
	}
	rt := h.table.lookup(r, &facts)
	ex := &exchange{listener: h.listener, route: rt, clientIP: facts.source.String()}
	rec := &statusRecorder{ResponseWriter: w}
	switch {
	case r.Method == http.MethodConnect:
		ex.errCode = http.StatusMethodNotAllowed
		http.Error(rec, "CONNECT is not supported", ex.errCode)
	case rt.pool == nil:
		ex.errCode = http.StatusNotFound
		http.Error(rec, "no route", ex.errCode)
	case !rt.pool.anyUsable():
		ex.errCode = http.StatusServiceUnavailable
		http.Error(rec, "no healthy backend", ex.errCode)
	default:
		p := rt.pool
		ex.hashKey = p.hashKey.of(r, ex.clientIP)
		if p.sticky != nil {
			if c, err := r.Cookie(p.sticky.Cookie); err == nil {
				ex.stickyName = c.Value
			}
		}
		out := r.WithContext(context.WithValue(r.Context(), exchangeKey{}, ex))
		if facts.path != r.URL.Path && r.URL.Path != "*" {
			u := *r.URL
			u.Path, u.RawPath = facts.path, ""
			out.URL = &u
		}
		h.proxy.ServeHTTP(rec, out)
		if ex.holding {
			ex.backend.active.Add(-1)
		}
	}
	h.record(r, ex, rec, time.Since(start))
}

func (h *httpHandler) record(r *http.Request, ex *exchange, rec *statusRecorder, d time.Duration) {
	code := rec.code
	if code == 0 {
		code = ex.status // hijacked for an upgrade: the backend's 101
	}
	recordRequest(h.m, h.access, requestSummary{
		listener: h.listener, remote: r.RemoteAddr, proto: r.Proto, method: r.Method, host: r.Host, path: r.URL.Path,
	}, ex, code, rec.bytes, d)
}

// requestSummary is what the metrics and the access log say about a request, whichever path
// served it.
type requestSummary struct {
	listener, remote, proto, method, host, path string
}

// recordRequest counts one answered request and writes its access log line.
func recordRequest(m *metrics, access *slog.Logger, q requestSummary, ex *exchange, code int, bytes int64, d time.Duration) {
	backendName := ""
	if ex.backend != nil {
		backendName = ex.backend.name
	}
	m.requests.WithLabelValues(q.listener, ex.route.name, backendName, codeClass(code)).Inc()
	m.latency.WithLabelValues(ex.route.name, backendName).Observe(d.Seconds())
	if access == nil {
		return
	}
	attrs := []slog.Attr{
		slog.String("listener", q.listener),
		slog.String("remote", q.remote),
		slog.String("proto", q.proto),
		slog.String("method", q.method),
		slog.String("host", q.host),
		slog.String("path", q.path),
		slog.Int("status", code),
		slog.Int64("bytes", bytes),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.String("route", ex.route.name),
		slog.String("backend", backendName),
	}
	if ex.lastErr != nil {
		attrs = append(attrs, slog.String("err", ex.lastErr.Error()))
	}
	access.LogAttrs(context.Background(), slog.LevelInfo, "request", attrs...)
}

// rewrite prepares the outbound request. The backend address is filled in per attempt by
// retryTransport. The client's Host is kept. X-Forwarded-* and Forwarded are replaced, not
// appended to: a client could forge them, and when the proxy sits behind tenbin's dataplane
// (DSR or NAT, or a PROXY header) it sees the real client address itself.
func rewrite(pr *httputil.ProxyRequest) {
	pr.SetXForwarded()
	pr.Out.Header.Set("Forwarded", forwardedValue(pr.In))
	pr.Out.URL.Scheme = "http"
	pr.Out.URL.Host = "backend.invalid"
}

// forwardedValue is the RFC 7239 element for this hop.
func forwardedValue(r *http.Request) string {
	return forwardedElement(r.RemoteAddr, r.Host, r.TLS != nil)
}

func forwardedElement(remoteAddr, host string, tls bool) string {
	var b strings.Builder
	b.WriteString("for=")
	ip, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		ip = remoteAddr
	}
	if strings.Contains(ip, ":") {
		b.WriteString(`"[` + ip + `]"`)
	} else {
		b.WriteString(ip)
	}
	if tls {
		b.WriteString(";proto=https")
	} else {
		b.WriteString(";proto=http")
	}
	if host != "" && !strings.ContainsAny(host, "\";\\ ") {
		b.WriteString(`;host="` + host + `"`)
	}
	return b.String()
}

// modifyResponse inserts the sticky cookie when the client is new to the backend.
func modifyResponse(resp *http.Response) error {
	ex := exchangeFrom(resp.Request.Context())
	ex.status = resp.StatusCode
	if c := stickyCookie(ex, resp.Request.TLS != nil); c != "" {
		resp.Header.Add("Set-Cookie", c)
	}
	return nil
}

// stickyCookie is the Set-Cookie value that pins the client to the backend that answered,
// or "" when the pool is not sticky or the client already named that backend.
func stickyCookie(ex *exchange, tls bool) string {
	p := ex.route.pool
	if p.sticky == nil || ex.backend == nil || ex.stickyName == ex.backend.name {
		return ""
	}
	c := &http.Cookie{
		Name: p.sticky.Cookie, Value: ex.backend.name, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: tls,
	}
	if p.sticky.MaxAge > 0 {
		c.MaxAge = int(p.sticky.MaxAge / time.Second)
	}
	return c.String()
}

// proxyError answers when no backend response came: 503 with nothing to try, 504 when the
// backend was too slow, 502 for anything else.
func proxyError(w http.ResponseWriter, r *http.Request, err error) {
	ex := exchangeFrom(r.Context())
	code := errorStatus(err, r.Context().Err() != nil)
	ex.lastErr, ex.errCode = err, code
	if code == statusClientGone {
		return
	}
	http.Error(w, http.StatusText(code), code)
}

// statusClientGone is logged when the client went away before its answer: nothing it will read.
const statusClientGone = 499

// errorStatus is the code the proxy answers with when forwarding failed with err.
func errorStatus(err error, clientGone bool) int {
	var ne net.Error
	switch {
	case errors.Is(err, ErrNoHealthyBackend):
		return http.StatusServiceUnavailable
	case clientGone:
		return statusClientGone
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return http.StatusGatewayTimeout
	}
	return http.StatusBadGateway
}

// statusRecorder sees the status and size of the response while letting
// http.ResponseController reach the real writer (flush for streaming, hijack for upgrades).
type statusRecorder struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 && code >= 200 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// bufferPool reuses ReverseProxy's 32 KiB copy buffers.
type bufferPool struct{}

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *copyBuffers.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { copyBuffers.Put(&b) }
