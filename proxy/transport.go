package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// dialError marks a failure to connect to a backend: nothing of the request was sent, so
// another backend may be tried.
type dialError struct{ err error }

func (e *dialError) Error() string { return "connect to backend: " + e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// newBackendTransport is one pool's connection pool to its backends: HTTP/1.1 keep-alive,
// bounded connect and response-header waits, and no transparent gzip (the client negotiates
// encodings with the backend, not with us).
func newBackendTransport(t PoolTimeouts) *http.Transport {
	d := &net.Dialer{Timeout: t.Connect, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, &dialError{err}
			}
			return c, nil
		},
		MaxIdleConns:          4096,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: t.Response,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
}

// retryTransport sends a request to the backend its pool picks, and for idempotent requests
// without a body tries other backends (up to the pool's retries) when connecting fails.
type retryTransport struct {
	m *metrics
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ex := exchangeFrom(req.Context())
	p := ex.route.pool
	canRetry := idempotent(req.Method) && (req.Body == nil || req.Body == http.NoBody)
	var tried []*backend
	for attempt := 0; ; attempt++ {
		b := p.pick(ex.hashKey, ex.stickyName, tried)
		if b == nil {
			if ex.lastErr != nil {
				return nil, ex.lastErr
			}
			return nil, ErrNoHealthyBackend
		}
		if attempt > 0 {
			t.m.retries.WithLabelValues(ex.route.name).Inc()
		}
		out := *req
		u := *req.URL
		u.Host = b.address
		out.URL = &u
		b.active.Add(1)
		ex.backend, ex.holding = b, true
		start := time.Now()
		resp, err := p.transport.RoundTrip(&out)
		if err == nil {
			b.observe(time.Since(start))
			return resp, nil
		}
		ex.lastErr = err
		var de *dialError
		if !errors.As(err, &de) || !canRetry || attempt >= p.retries || req.Context().Err() != nil {
			return nil, err
		}
		b.active.Add(-1)
		ex.holding = false
		tried = append(tried, b)
	}
}

// idempotent methods per RFC 9110 9.2.2.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}
