package health

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// maxBody is how much of a response body ExpectBody is searched in.
const maxBody = 64 << 10

// httpChecker sends one request on a fresh connection (keep-alive would hide
// a server that no longer accepts connections) and checks status and body.
type httpChecker struct {
	client     *http.Client
	url        string
	method     string
	host       string
	expect     []StatusRange
	expectBody []byte
}

func newHTTPChecker(spec Spec, target Target) *httpChecker {
	addr := checkAddr(spec, target)
	d := dialer(spec.Source, "tcp")
	transport := &http.Transport{
		// Whatever the URL says, connect to the backend itself.
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr.String())
		},
		DisableKeepAlives:  true,
		DisableCompression: true,
		Proxy:              nil,
	}
	scheme := "http"
	if spec.Kind == HTTPS {
		scheme = "https"
		sni := spec.SNI
		if sni == "" {
			sni = spec.Host
		}
		transport.TLSClientConfig = &tls.Config{ServerName: sni, InsecureSkipVerify: spec.InsecureSkipVerify}
	}
	host := spec.Host
	if host == "" {
		host = addr.String()
	}
	path := spec.Path
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	method := spec.Method
	if method == "" {
		method = http.MethodGet
	}
	expect := spec.ExpectStatus
	if len(expect) == 0 {
		expect = []StatusRange{{200, 399}}
	}
	return &httpChecker{
		client: &http.Client{
			Transport: transport,
			// A health check judges the answer it gets, not where a
			// redirect points.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		url:        scheme + "://" + host + path,
		method:     method,
		host:       host,
		expect:     expect,
		expectBody: []byte(spec.ExpectBody),
	}
}

func (c *httpChecker) Check(ctx context.Context) Result {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, c.method, c.url, nil)
	if err != nil {
		return failed(0, fmt.Errorf("http request: %w", err), "bad request")
	}
	req.Host = c.host
	req.Header.Set("User-Agent", "tenbin-health")
	resp, err := c.client.Do(req)
	if err != nil {
		return failed(time.Since(start), fmt.Errorf("http %s %s: %w", c.method, c.url, err), "no response")
	}
	defer resp.Body.Close()
	rtt := time.Since(start)
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if !c.statusOK(resp.StatusCode) {
		return failed(rtt, fmt.Errorf("http %s %s: %w %d", c.method, c.url, ErrUnexpectedStatus, resp.StatusCode),
			fmt.Sprintf("status %d, want %v", resp.StatusCode, c.expect))
	}
	if len(c.expectBody) > 0 {
		if err != nil {
			return failed(rtt, fmt.Errorf("http %s %s: reading body: %w", c.method, c.url, err), "body cut short")
		}
		if !bytes.Contains(body, c.expectBody) {
			return failed(rtt, fmt.Errorf("http %s %s: %w %q", c.method, c.url, ErrBodyMismatch, c.expectBody),
				fmt.Sprintf("status %d, body lacks %q", resp.StatusCode, c.expectBody))
		}
	}
	return succeeded(rtt, fmt.Sprintf("status %d", resp.StatusCode))
}

func (c *httpChecker) statusOK(code int) bool {
	for _, r := range c.expect {
		if r.contains(code) {
			return true
		}
	}
	return false
}
