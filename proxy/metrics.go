package proxy

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the proxy's Prometheus series, on a registry of their own so the proxy can be
// embedded next to the control plane's metrics without name clashes.
type metrics struct {
	registry        *prometheus.Registry
	requests        *prometheus.CounterVec   // listener, route, backend, code
	latency         *prometheus.HistogramVec // route, backend
	retries         *prometheus.CounterVec   // route
	activeConns     *prometheus.GaugeVec     // listener
	handshakes      *prometheus.CounterVec   // listener
	handshakeErrors *prometheus.CounterVec   // listener
	badRequests     *prometheus.CounterVec   // listener
	tcpSessions     *prometheus.CounterVec   // listener, backend, result
	backendUp       *prometheus.GaugeVec     // pool, backend
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenbin_proxy_requests_total",
			Help: "HTTP requests answered, by listener, route, backend and status class (2xx..5xx).",
		}, []string{"listener", "route", "backend", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tenbin_proxy_request_duration_seconds",
			Help:    "Time from request headers read to response finished, by route and backend.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "backend"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenbin_proxy_retries_total",
			Help: "Requests sent to another backend after a connect failure, by route.",
		}, []string{"route"}),
		activeConns: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tenbin_proxy_active_connections",
			Help: "Client connections open, by listener.",
		}, []string{"listener"}),
		handshakes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenbin_proxy_tls_handshakes_total",
			Help: "TLS handshakes completed, by listener.",
		}, []string{"listener"}),
		handshakeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenbin_proxy_tls_handshake_failures_total",
			Help: "TLS handshakes (or PROXY headers before them) that failed, by listener.",
		}, []string{"listener"}),
		badRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenbin_proxy_bad_requests_total",
			Help: "Requests refused before routing (malformed, oversized headers, incomplete), by listener.",
		}, []string{"listener"}),
		tcpSessions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenbin_proxy_tcp_sessions_total",
			Help: "tcp+tls sessions, by listener, backend and result (ok, no_backend, connect_error).",
		}, []string{"listener", "backend", "result"}),
		backendUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tenbin_proxy_backend_up",
			Help: "1 if the backend passes its health check, by pool and backend.",
		}, []string{"pool", "backend"}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.retries, m.activeConns, m.handshakes,
		m.handshakeErrors, m.badRequests, m.tcpSessions, m.backendUp)
	return m
}

// codeClass turns 404 into "4xx"; 0 (no response) is "none".
func codeClass(code int) string {
	if code < 100 || code > 599 {
		return "none"
	}
	return codeClasses[code/100-1]
}

var codeClasses = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}
