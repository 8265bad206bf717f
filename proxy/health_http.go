package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// errBadStatus is a health check answered with a status outside 200..399.
var errBadStatus = errors.New("unhealthy status")

// httpChecker passes when GET path answers 2xx or 3xx.
type httpChecker struct {
	path, host string
	client     *http.Client
}

func newHTTPChecker(path, host string) *httpChecker {
	tr := &http.Transport{DisableKeepAlives: true, DisableCompression: true}
	return &httpChecker{path: path, host: host, client: &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (c *httpChecker) Check(ctx context.Context, address string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+address+c.path, nil)
	if err != nil {
		return err
	}
	if c.host != "" {
		req.Host = c.host
	}
	req.Header.Set("User-Agent", "tenbin-proxy-health")
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 399 {
		return fmt.Errorf("%w %d", errBadStatus, resp.StatusCode)
	}
	return nil
}
