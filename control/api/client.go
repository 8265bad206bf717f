package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"tenbin/control/daemon"
)

// ErrUnreachable means no daemon answers on the socket.
var ErrUnreachable = errors.New("control daemon not reachable")

// Client talks to a daemon over its unix socket.
type Client struct {
	socket string
	http   *http.Client
}

// NewClient returns a client for the daemon listening at socket.
func NewClient(socket string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
	}
	return &Client{socket: socket, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// Status is GET /v1/status.
func (c *Client) Status(ctx context.Context) (daemon.Status, error) {
	var v daemon.Status
	return v, c.do(ctx, "GET", "/v1/status", nil, &v)
}

// Services is GET /v1/services.
func (c *Client) Services(ctx context.Context) ([]daemon.ServiceView, error) {
	var v []daemon.ServiceView
	return v, c.do(ctx, "GET", "/v1/services", nil, &v)
}

// Service is GET /v1/services/{name}.
func (c *Client) Service(ctx context.Context, name string) (daemon.ServiceView, error) {
	var v daemon.ServiceView
	return v, c.do(ctx, "GET", "/v1/services/"+url.PathEscape(name), nil, &v)
}

// Backends is GET /v1/backends[?service=S].
func (c *Client) Backends(ctx context.Context, service string) ([]daemon.BackendView, error) {
	var v []daemon.BackendView
	path := "/v1/backends"
	if service != "" {
		path += "?service=" + url.QueryEscape(service)
	}
	return v, c.do(ctx, "GET", path, nil, &v)
}

// Stats is GET /v1/stats.
func (c *Client) Stats(ctx context.Context) (daemon.Stats, error) {
	var v daemon.Stats
	return v, c.do(ctx, "GET", "/v1/stats", nil, &v)
}

// Config is GET /v1/config.
func (c *Client) Config(ctx context.Context) (ConfigView, error) {
	var v ConfigView
	return v, c.do(ctx, "GET", "/v1/config", nil, &v)
}

// Apply is POST /v1/config: name is how error messages call the file.
func (c *Client) Apply(ctx context.Context, name string, data []byte) (daemon.ApplyResult, error) {
	var v daemon.ApplyResult
	return v, c.do(ctx, "POST", "/v1/config?name="+url.QueryEscape(name), data, &v)
}

// Diff is POST /v1/config/diff.
func (c *Client) Diff(ctx context.Context, name string, data []byte) (DiffView, error) {
	var v DiffView
	return v, c.do(ctx, "POST", "/v1/config/diff?name="+url.QueryEscape(name), data, &v)
}

// BackendAction is POST /v1/backends/{service}/{backend}/{action}: drain, undrain, enable
// or disable.
func (c *Client) BackendAction(ctx context.Context, service, backend, action string) (ActionResult, error) {
	var v ActionResult
	return v, c.do(ctx, "POST", backendPath(service, backend, action), nil, &v)
}

// SetWeight is POST /v1/backends/{service}/{backend}/weight.
func (c *Client) SetWeight(ctx context.Context, service, backend string, weight int) (ActionResult, error) {
	body, _ := json.Marshal(WeightRequest{Weight: &weight})
	var v ActionResult
	return v, c.do(ctx, "POST", backendPath(service, backend, "weight"), body, &v)
}

func backendPath(service, backend, action string) string {
	return "/v1/backends/" + url.PathEscape(service) + "/" + url.PathEscape(backend) + "/" + action
}

func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://tenbin"+path, rd)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) && ctx.Err() == nil {
			return fmt.Errorf("%w at %s: %v", ErrUnreachable, c.socket, ue.Err)
		}
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var eb errorBody
		if json.Unmarshal(data, &eb) != nil || eb.Error == nil {
			return &Error{Status: resp.StatusCode, Code: CodeInternal, Message: fmt.Sprintf("%s %s: %s", method, path, resp.Status)}
		}
		eb.Error.Status = resp.StatusCode
		return eb.Error
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}
