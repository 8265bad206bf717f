package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

func TestHTTP1RoutesAndRewritesHeaders(t *testing.T) {
	api := startBackend(t, "api", nil)
	www := startBackend(t, "www", nil)
	rp := startProxy(t, fmt.Sprintf(`
listeners: [{name: web, kind: http, address: "127.0.0.1:0"}]
routes: [{name: api, match: {hosts: [api.example.com], path_prefix: /v1/}, pool: api}]
default_pool: www
pools:
  - {name: api, backends: [{name: api1, address: %q}]}
  - {name: www, backends: [{name: www1, address: %q}]}
`, api.addr, www.addr))

	req := newReq(t, "GET", rp.url("web", "/v1/users"))
	req.Host = "api.example.com"
	req.Header.Set("X-Forwarded-For", "6.6.6.6") // forged: must not survive
	req.Header.Set("Connection", "X-Secret")
	req.Header.Set("X-Secret", "hop")
	req.Header.Set("Proxy-Authorization", "Basic eA==")
	resp, e := get(t, http.DefaultClient, req)
	if resp.StatusCode != 200 || e.Backend != "api" {
		t.Fatalf("status %d backend %q, want 200 from api", resp.StatusCode, e.Backend)
	}
	if e.Host != "api.example.com" || e.Path != "/v1/users" {
		t.Errorf("backend saw host %q path %q", e.Host, e.Path)
	}
	h := e.Header
	if got := h.Get("X-Forwarded-For"); got != "127.0.0.1" {
		t.Errorf("X-Forwarded-For = %q, want 127.0.0.1", got)
	}
	if got := h.Get("X-Forwarded-Proto"); got != "http" {
		t.Errorf("X-Forwarded-Proto = %q", got)
	}
	if got := h.Get("Forwarded"); got != `for=127.0.0.1;proto=http;host="api.example.com"` {
		t.Errorf("Forwarded = %q", got)
	}
	for _, hop := range []string{"X-Secret", "Proxy-Authorization", "Connection"} {
		if h.Get(hop) != "" {
			t.Errorf("hop-by-hop header %s reached the backend", hop)
		}
	}

	resp, e = get(t, http.DefaultClient, newReq(t, "GET", rp.url("web", "/v1/users")))
	if e.Backend != "www" {
		t.Errorf("other host went to %q (status %d), want the default pool", e.Backend, resp.StatusCode)
	}
	// Dot segments cannot smuggle a request past a rule, and the backend sees the clean path.
	req = newReq(t, "GET", rp.url("web", "/x"))
	req.URL.Opaque = "/static/../v1/users"
	req.Host = "api.example.com"
	_, e = get(t, http.DefaultClient, req)
	if e.Backend != "api" || e.Path != "/v1/users" {
		t.Errorf("dot-segment path: backend %q path %q", e.Backend, e.Path)
	}
}

func TestHTTP2OverTLSAndH2C(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	crt, key := ca.issue(t, dir, "www", "www", "www.example.com")
	be := startBackend(t, "b", nil)
	rp := startProxy(t, fmt.Sprintf(`
listeners:
  - {name: tls, kind: https, address: "127.0.0.1:0", certificates: [{cert: %q, key: %q}]}
  - {name: h2c, kind: http, address: "127.0.0.1:0", h2c: true}
default_pool: p
pools: [{name: p, backends: [{name: b1, address: %q}]}]
`, crt, key, be.addr))

	c := tlsClient(ca, "www.example.com")
	resp, e := get(t, c, newReq(t, "GET", rp.url("tls", "/h2")))
	if resp.Proto != "HTTP/2.0" || resp.StatusCode != 200 {
		t.Fatalf("proto %s status %d, want HTTP/2.0 200", resp.Proto, resp.StatusCode)
	}
	if e.Header.Get("X-Forwarded-Proto") != "https" || !strings.Contains(e.Header.Get("Forwarded"), "proto=https") {
		t.Errorf("backend saw X-Forwarded-Proto %q Forwarded %q", e.Header.Get("X-Forwarded-Proto"), e.Header.Get("Forwarded"))
	}
	// HTTP/1.1 clients still work on the same listener.
	c1 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool, ServerName: "www.example.com"}}}
	if resp, _ := get(t, c1, newReq(t, "GET", rp.url("tls", "/h1"))); resp.Proto != "HTTP/1.1" || resp.StatusCode != 200 {
		t.Errorf("HTTP/1.1 over TLS: %s %d", resp.Proto, resp.StatusCode)
	}

	h2c := &http.Transport{Protocols: new(http.Protocols)}
	h2c.Protocols.SetUnencryptedHTTP2(true)
	resp, e = get(t, &http.Client{Transport: h2c}, newReq(t, "GET", rp.url("h2c", "/")))
	if resp.Proto != "HTTP/2.0" || e.Backend != "b" {
		t.Errorf("h2c: proto %s backend %q", resp.Proto, e.Backend)
	}
}

func TestWebSocketAndStreamingPassThrough(t *testing.T) {
	release := make(chan struct{})
	be := startBackend(t, "b", func(mux *http.ServeMux) {
		mux.Handle("/ws", websocket.Handler(func(ws *websocket.Conn) { _, _ = io.Copy(ws, ws) }))
		mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintln(w, "first")
			http.NewResponseController(w).Flush()
			<-release
			fmt.Fprintln(w, "second")
		})
	})
	rp := startProxy(t, fmt.Sprintf(`
listeners: [{name: web, kind: http, address: "127.0.0.1:0"}]
default_pool: p
pools: [{name: p, backends: [{name: b1, address: %q}]}]
`, be.addr))

	ws, err := websocket.Dial("ws://"+rp.Addr("web").String()+"/ws", "", "http://localhost/")
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range []string{"hello", "tenbin"} {
		if err := websocket.Message.Send(ws, msg); err != nil {
			t.Fatal(err)
		}
		var got string
		if err := websocket.Message.Receive(ws, &got); err != nil || got != msg {
			t.Fatalf("echo = %q, %v", got, err)
		}
	}
	ws.Close()

	resp, err := http.Get(rp.url("web", "/stream"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n') // arrives while the backend is still writing
	if err != nil || line != "first\n" {
		t.Fatalf("first chunk %q, %v", line, err)
	}
	close(release)
	if line, _ = br.ReadString('\n'); line != "second\n" {
		t.Fatalf("second chunk %q", line)
	}
}

func TestStickyCookie(t *testing.T) {
	a, b := startBackend(t, "a", nil), startBackend(t, "b", nil)
	rp := startProxy(t, fmt.Sprintf(`
listeners: [{name: web, kind: http, address: "127.0.0.1:0"}]
default_pool: p
pools:
  - name: p
    scheduler: rr
    sticky: {cookie: SRV}
    backends: [{name: ba, address: %q}, {name: bb, address: %q}]
`, a.addr, b.addr))
	resp, first := get(t, http.DefaultClient, newReq(t, "GET", rp.url("web", "/")))
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "SRV" {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value != "b"+first.Backend || !cookie.HttpOnly {
		t.Fatalf("sticky cookie %v after backend %q", cookie, first.Backend)
	}
	for range 6 {
		req := newReq(t, "GET", rp.url("web", "/"))
		req.AddCookie(&http.Cookie{Name: "SRV", Value: cookie.Value})
		resp, e := get(t, http.DefaultClient, req)
		if e.Backend != first.Backend {
			t.Fatalf("sticky request went to %q, want %q", e.Backend, first.Backend)
		}
		if len(resp.Cookies()) != 0 {
			t.Errorf("cookie set again for a client that already has it")
		}
	}
	// Without the cookie rr alternates.
	_, e1 := get(t, http.DefaultClient, newReq(t, "GET", rp.url("web", "/")))
	_, e2 := get(t, http.DefaultClient, newReq(t, "GET", rp.url("web", "/")))
	if e1.Backend == e2.Backend {
		t.Errorf("rr without cookie sent both to %q", e1.Backend)
	}
}

func TestRetriesAndBackendErrors(t *testing.T) {
	slow := startBackend(t, "slow", func(mux *http.ServeMux) {
		mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		})
	})
	alive := startBackend(t, "alive", nil)
	dead := deadAddr(t)
	rp := startProxy(t, fmt.Sprintf(`
listeners: [{name: web, kind: http, address: "127.0.0.1:0"}]
routes:
  - {name: mixed, match: {path_prefix: /mixed/}, pool: mixed}
  - {name: down, match: {path_prefix: /down/}, pool: down}
  - {name: slow, match: {path_prefix: /slow}, pool: slow}
pools:
  - {name: mixed, scheduler: rr, backends: [{name: dead, address: %q}, {name: alive, address: %q}]}
  - name: down
    health_check: {kind: tcp, interval: 20ms, timeout: 50ms, fall: 1}
    backends: [{name: dead, address: %q}]
  - {name: slow, timeouts: {response: 100ms}, backends: [{name: slow, address: %q}]}
`, dead, alive.addr, dead, slow.addr))

	for i := range 6 { // every GET lands on the live backend, half of them after a retry
		resp, e := get(t, http.DefaultClient, newReq(t, "GET", rp.url("web", "/mixed/")))
		if resp.StatusCode != 200 || e.Backend != "alive" {
			t.Fatalf("GET %d: status %d backend %q", i, resp.StatusCode, e.Backend)
		}
	}
	// A POST is not retried: the one that meets the dead backend gets 502.
	codes := map[int]int{}
	for range 4 {
		resp, err := http.Post(rp.url("web", "/mixed/"), "text/plain", strings.NewReader("body"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes[resp.StatusCode]++
	}
	if codes[502] != 2 || codes[200] != 2 {
		t.Errorf("POST codes %v, want two 200 and two 502", codes)
	}
	// Health check marks the only backend down: 503.
	waitFor(t, "backend down", func() bool { return !rp.pools["down"].anyUsable() })
	if resp, _ := get(t, http.DefaultClient, newReq(t, "GET", rp.url("web", "/down/"))); resp.StatusCode != 503 {
		t.Errorf("no healthy backend: %d, want 503", resp.StatusCode)
	}
	// Backend slower than the response timeout: 504.
	if resp, _ := get(t, http.DefaultClient, newReq(t, "GET", rp.url("web", "/slow"))); resp.StatusCode != 504 {
		t.Errorf("slow backend: %d, want 504", resp.StatusCode)
	}
	if !contains(rp.log.String(), `backend down`) {
		t.Error("health flip not logged")
	}
}

func TestBadInputCodes(t *testing.T) {
	be := startBackend(t, "b", nil)
	rp := startProxy(t, fmt.Sprintf(`
listeners: [{name: web, kind: http, address: "127.0.0.1:0", max_header_bytes: 4096}]
default_pool: p
pools: [{name: p, backends: [{name: b1, address: %q}]}]
`, be.addr))
	raw := func(req string) string {
		c, err := net.Dial("tcp", rp.Addr("web").String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		_, _ = io.WriteString(c, req)
		line, _ := bufio.NewReader(c).ReadString('\n')
		return line
	}
	if got := raw("GARBAGE\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 400") {
		t.Errorf("malformed request line: %q", got)
	}
	if got := raw("GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 400") {
		t.Errorf("malformed header: %q", got)
	}
	big := "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 16<<10) + "\r\n\r\n"
	if got := raw(big); !strings.HasPrefix(got, "HTTP/1.1 431") {
		t.Errorf("oversized headers: %q", got)
	}
	if got := raw("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 405") {
		t.Errorf("CONNECT: %q", got)
	}
	// Still serving, and each refused request logged exactly once.
	if resp, _ := get(t, http.DefaultClient, newReq(t, "GET", rp.url("web", "/"))); resp.StatusCode != 200 {
		t.Fatalf("after bad input: %d", resp.StatusCode)
	}
	waitFor(t, "bad request log lines", func() bool {
		return strings.Count(rp.log.String(), "bad request refused") == 3
	})
	for _, code := range []string{"status=400", "status=431"} {
		if !contains(rp.log.String(), code) {
			t.Errorf("log lacks %s:\n%s", code, rp.log.String())
		}
	}
	time.Sleep(50 * time.Millisecond)
	if n := strings.Count(rp.log.String(), "bad request refused"); n != 3 {
		t.Errorf("%d bad-request log lines, want 3", n)
	}
}

func TestGracefulShutdownLosesNoInFlightRequest(t *testing.T) {
	started := make(chan struct{}, 64)
	be := startBackend(t, "b", func(mux *http.ServeMux) {
		mux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
			started <- struct{}{}
			time.Sleep(300 * time.Millisecond)
			fmt.Fprint(w, "done")
		})
	})
	rp := startProxy(t, fmt.Sprintf(`
listeners: [{name: web, kind: http, address: "127.0.0.1:0"}]
default_pool: p
pools: [{name: p, backends: [{name: b1, address: %q}]}]
`, be.addr))
	const n = 20
	url := rp.url("web", "/work")
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			resp, err := http.Get(url)
			if err != nil {
				errs <- err
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "done" {
				errs <- fmt.Errorf("status %d body %q", resp.StatusCode, body)
			}
		})
	}
	for range n {
		<-started
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rp.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error("in-flight request lost:", err)
	}
	if _, err := net.DialTimeout("tcp", rp.Addr("web").String(), time.Second); err == nil {
		t.Error("listener still accepting after shutdown")
	}
}
