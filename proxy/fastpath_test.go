package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fastHandoffs is how many connections the named listener's fast path gave to net/http.
func (rp *runningProxy) fastHandoffs(listener string) uint64 {
	for _, lr := range rp.listeners {
		if lr.cfg.Name == listener && lr.fast != nil {
			return lr.fast.handoffs.Load()
		}
	}
	return 0
}

// startOnePoolProxy runs a plain http listener "web" whose every request goes to addr.
func startOnePoolProxy(t *testing.T, addr string) *runningProxy {
	t.Helper()
	return startProxy(t, fmt.Sprintf(`
listeners: [{name: web, kind: http, address: "127.0.0.1:0"}]
default_pool: p
pools: [{name: p, backends: [{name: b1, address: %q}]}]
`, addr))
}

func TestFastPathKeepsConnectionsAndStreamsBodies(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	var mu sync.Mutex
	remotes := map[string]bool{} // the backend's client addresses: one per connection
	seen := func(r *http.Request) {
		mu.Lock()
		remotes[r.RemoteAddr] = true
		mu.Unlock()
	}
	be := startBackend(t, "b", func(mux *http.ServeMux) {
		mux.HandleFunc("/seen", func(w http.ResponseWriter, r *http.Request) {
			seen(r)
			_ = json.NewEncoder(w).Encode(echo{Backend: "b"})
		})
		mux.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) {
			seen(r)
			h := sha256.New()
			n, _ := io.Copy(h, r.Body)
			fmt.Fprintf(w, "%d %x", n, h.Sum(nil))
		})
		mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
			seen(r)
			w.Header().Set("Content-Length", fmt.Sprint(len(big)))
			_, _ = w.Write(big)
		})
	})
	rp := startOnePoolProxy(t, be.addr)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	for i := range 20 {
		if resp, e := get(t, c, newReq(t, "GET", rp.url("web", "/seen"))); resp.StatusCode != 200 || e.Backend != "b" {
			t.Fatalf("GET %d: %d from %q", i, resp.StatusCode, e.Backend)
		}
	}
	resp, err := c.Post(rp.url("web", "/upload"), "application/octet-stream", bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := fmt.Sprintf("%d %x", len(big), sha256.Sum256(big)); string(body) != want {
		t.Errorf("upload: backend saw %q, want %q", body, want)
	}
	resp, err = c.Get(rp.url("web", "/big"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(body, big) || resp.ContentLength != int64(len(big)) {
		t.Errorf("download: %d bytes (Content-Length %d), want %d", len(body), resp.ContentLength, len(big))
	}
	resp, err = c.Head(rp.url("web", "/big"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != int64(len(big)) {
		t.Errorf("HEAD: %d, Content-Length %d", resp.StatusCode, resp.ContentLength)
	}
	if n := len(remotes); n != 1 {
		t.Errorf("backend saw %d connections for 23 sequential requests, want 1 (kept alive)", n)
	}
	if n := rp.fastHandoffs("web"); n != 0 {
		t.Errorf("%d connections handed to net/http, want none", n)
	}
}

func TestFastPathPipelinedRequestsAndConnectionClose(t *testing.T) {
	be := startBackend(t, "b", nil)
	rp := startOnePoolProxy(t, be.addr)
	c, err := net.Dial("tcp", rp.Addr("web").String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(c, "GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	br := bufio.NewReader(c)
	for _, path := range []string{"/one", "/two"} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"Path":"`+path+`"`) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
		if path == "/two" && !resp.Close {
			t.Error("Connection: close not answered in kind")
		}
	}
	if n, err := br.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Error("connection still open after Connection: close")
	}
}

func TestFastPathStreamsChunkedResponsesWithTrailers(t *testing.T) {
	release := make(chan struct{})
	be := startBackend(t, "b", func(mux *http.ServeMux) {
		mux.HandleFunc("/events", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Trailer", "X-Checksum")
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "data: first\n\n")
			http.NewResponseController(w).Flush()
			<-release
			fmt.Fprint(w, "data: second\n\n")
			w.Header().Set("X-Checksum", "42")
		})
	})
	rp := startOnePoolProxy(t, be.addr)
	resp, err := http.Get(rp.url("web", "/events"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || line != "data: first\n" {
		t.Fatalf("first event %q, %v (must arrive while the backend still writes)", line, err)
	}
	close(release)
	rest, _ := io.ReadAll(br)
	if string(rest) != "\ndata: second\n\n" {
		t.Errorf("rest %q", rest)
	}
	if got := resp.Trailer.Get("X-Checksum"); got != "42" {
		t.Errorf("trailer X-Checksum = %q, want 42", got)
	}
	if n := rp.fastHandoffs("web"); n != 0 {
		t.Errorf("%d connections handed to net/http, want none", n)
	}
}

func TestFastPathHandsUnusualRequestsToNetHTTP(t *testing.T) {
	be := startBackend(t, "b", nil)
	rp := startProxy(t, fmt.Sprintf(`
listeners: [{name: web, kind: http, address: "127.0.0.1:0"}]
routes: [{name: admin, match: {path_prefix: /admin/}, pool: p}]
pools: [{name: p, backends: [{name: b1, address: %q}]}]
`, be.addr))
	send := func(raw string) (*http.Response, echo) {
		t.Helper()
		c, err := net.Dial("tcp", rp.Addr("web").String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(c, raw)
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		for err == nil && resp.StatusCode == http.StatusContinue {
			resp, err = http.ReadResponse(br, nil)
		}
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		body, _ := io.ReadAll(resp.Body)
		var e echo
		_ = json.Unmarshal(body, &e)
		return resp, e
	}
	cases := []struct {
		name, raw, path string
	}{
		{"chunked body", "POST /admin/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "/admin/x"},
		{"expect", "PUT /admin/x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc", "/admin/x"},
		{"HTTP/1.0", "GET /admin/x HTTP/1.0\r\nHost: x\r\n\r\n", "/admin/x"},
		{"bare LF", "GET /admin/x HTTP/1.1\nHost: x\n\n", "/admin/x"},
	}
	for _, tc := range cases {
		before := rp.fastHandoffs("web")
		resp, e := send(tc.raw)
		if resp.StatusCode/100 != 2 || e.Path != tc.path {
			t.Errorf("%s: %d, backend saw %q", tc.name, resp.StatusCode, e.Path)
		}
		if rp.fastHandoffs("web") != before+1 {
			t.Errorf("%s: not handed to net/http", tc.name)
		}
	}
	// Escaped and dotted paths stay on the fast path and are routed and forwarded cleaned,
	// as net/http's path does it.
	before := rp.fastHandoffs("web")
	for raw, want := range map[string]string{
		"GET /x/%2e%2e/admin/a%20b HTTP/1.1\r\nHost: x\r\n\r\n": "/admin/a b",
		"GET /public/../admin/ HTTP/1.1\r\nHost: x\r\n\r\n":     "/admin/",
		"GET //admin//x?a=1;b=2 HTTP/1.1\r\nHost: x\r\n\r\n":    "/admin/x",
	} {
		if resp, e := send(raw); resp.StatusCode != 200 || e.Path != want {
			t.Errorf("%q: %d, backend saw %q, want %q", raw, resp.StatusCode, e.Path, want)
		}
	}
	if rp.fastHandoffs("web") != before {
		t.Error("escaped paths were handed to net/http")
	}
}

// rawBackend answers every request with the bytes answer returns, then closes the connection
// if answer says so; it counts the connections it accepted.
func rawBackend(t *testing.T, answer func(*http.Request) (resp string, closeAfter bool)) (string, *atomic.Int64) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var conns atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					resp, closeAfter := answer(req)
					if _, err := io.WriteString(c, resp); err != nil || closeAfter {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String(), &conns
}

func TestFastPathReplacesConnectionsTheBackendClosed(t *testing.T) {
	addr, conns := rawBackend(t, func(*http.Request) (string, bool) {
		return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", true // keep-alive in name only
	})
	rp := startProxy(t, fmt.Sprintf(`
listeners: [{name: web, kind: http, address: "127.0.0.1:0"}]
default_pool: p
pools: [{name: p, retries: 0, backends: [{name: b1, address: %q}]}]
`, addr))
	for i := range 5 {
		resp, err := http.Get(rp.url("web", "/"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "ok" {
			t.Fatalf("GET %d after the backend closed its connection: %d %q", i, resp.StatusCode, body)
		}
		time.Sleep(5 * time.Millisecond) // let the close arrive
	}
	if n := conns.Load(); n != 5 {
		t.Errorf("backend saw %d connections, want 5", n)
	}
}

func TestFastPathBackendResponseFraming(t *testing.T) {
	answers := map[string]string{
		"/close-delimited": "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close",
		"/early-hints":     "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhints",
		"/hop":             "HTTP/1.1 200 OK\r\nConnection: X-Hop\r\nX-Hop: secret\r\nKeep-Alive: timeout=5\r\nContent-Length: 3\r\n\r\nhop",
		"/bad-chunk":       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
		"/garbage":         "SPDY/9 200 OK\r\n\r\n",
	}
	addr, _ := rawBackend(t, func(r *http.Request) (string, bool) { return answers[r.URL.Path], true })
	rp := startOnePoolProxy(t, addr)

	fetch := func(path string) (*http.Response, string, error) {
		resp, err := http.Get(rp.url("web", path))
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp, string(body), err
	}
	if resp, body, err := fetch("/close-delimited"); err != nil || body != "until close" || !resp.Close {
		t.Errorf("close-delimited: %q, %v (close %v)", body, err, resp != nil && resp.Close)
	}
	if resp, body, err := fetch("/early-hints"); err != nil || resp.StatusCode != 200 || body != "hints" {
		t.Errorf("early hints: %v %q %v", resp, body, err)
	}
	if resp, body, err := fetch("/hop"); err != nil || body != "hop" || resp.Header.Get("X-Hop") != "" || resp.Header.Get("Keep-Alive") != "" {
		t.Errorf("hop-by-hop response headers: %v %q %v", resp.Header, body, err)
	}
	if _, body, err := fetch("/bad-chunk"); err == nil {
		t.Errorf("truncated chunked body reached the client whole: %q", body)
	}
	if resp, _, err := fetch("/garbage"); err != nil || resp.StatusCode != 502 {
		t.Errorf("garbage from the backend: %v, %v, want 502", resp, err)
	}
}

// When the grace period ends, a request still waiting for its backend is cut: shutdown does
// not wait for the backend's response timeout.
func TestFastPathForcedShutdownCutsWaitingRequests(t *testing.T) {
	be := startBackend(t, "slow", func(mux *http.ServeMux) {
		mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
		})
	})
	rp := startOnePoolProxy(t, be.addr)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.Get(rp.url("web", "/slow"))
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := rp.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("shutdown: %v, want the deadline", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("shutdown took %v with a 100ms grace", d)
	}
	if err := <-errc; err == nil {
		t.Error("the cut request succeeded")
	}
}
