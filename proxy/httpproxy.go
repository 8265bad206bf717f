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
	backendName := ""
	if ex.backend != nil {
		backendName = ex.backend.name
	}
	h.m.requests.WithLabelValues(h.listener, ex.route.name, backendName, codeClass(code)).Inc()
	h.m.latency.WithLabelValues(ex.route.name, backendName).Observe(d.Seconds())
	if h.access == nil {
		return
	}
	attrs := []slog.Attr{
		slog.String("listener", h.listener),
		slog.String("remote", r.RemoteAddr),
		slog.String("proto", r.Proto),
		slog.String("method", r.Method),
		slog.String("host", r.Host),
		slog.String("path", r.URL.Path),
		slog.Int("status", code),
		slog.Int64("bytes", rec.bytes),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.String("route", ex.route.name),
		slog.String("backend", backendName),
	}
	if ex.lastErr != nil {
		attrs = append(attrs, slog.String("err", ex.lastErr.Error()))
	}
	h.access.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
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
	var b strings.Builder
	b.WriteString("for=")
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if strings.Contains(host, ":") {
		b.WriteString(`"[` + host + `]"`)
	} else {
		b.WriteString(host)
	}
	if r.TLS != nil {
		b.WriteString(";proto=https")
	} else {
		b.WriteString(";proto=http")
	}
	if r.Host != "" && !strings.ContainsAny(r.Host, "\";\\ ") {
		b.WriteString(`;host="` + r.Host + `"`)
	}
	return b.String()
}

// modifyResponse inserts the sticky cookie when the client is new to the backend.
func modifyResponse(resp *http.Response) error {
	ex := exchangeFrom(resp.Request.Context())
	ex.status = resp.StatusCode
	p := ex.route.pool
	if p.sticky == nil || ex.backend == nil || ex.stickyName == ex.backend.name {
		return nil
	}
	c := &http.Cookie{
		Name: p.sticky.Cookie, Value: ex.backend.name, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: resp.Request.TLS != nil,
	}
	if p.sticky.MaxAge > 0 {
		c.MaxAge = int(p.sticky.MaxAge / time.Second)
	}
	resp.Header.Add("Set-Cookie", c.String())
	return nil
}

// proxyError answers when no backend response came: 503 with nothing to try, 504 when the
// backend was too slow, 502 for anything else.
func proxyError(w http.ResponseWriter, r *http.Request, err error) {
	ex := exchangeFrom(r.Context())
	code := http.StatusBadGateway
	var ne net.Error
	switch {
	case errors.Is(err, ErrNoHealthyBackend):
		code = http.StatusServiceUnavailable
	case r.Context().Err() != nil:
		code = 499 // the client went away; nothing it will read
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		code = http.StatusGatewayTimeout
	}
	ex.lastErr, ex.errCode = err, code
	if code == 499 {
		return
	}
	http.Error(w, http.StatusText(code), code)
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
