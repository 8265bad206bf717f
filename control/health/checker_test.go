package health

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

const testTimeout = 300 * time.Millisecond

func check(t *testing.T, spec Spec, target Target) Result {
	t.Helper()
	c, err := New(spec, target)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	return c.Check(ctx)
}

func targetAt(t *testing.T, addr string) Target {
	t.Helper()
	ap := netip.MustParseAddrPort(addr)
	return Target{Service: "web", Backend: "b1", Addr: ap.Addr(), Port: ap.Port()}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T, network string) string {
	t.Helper()
	switch network {
	case "udp":
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().String()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func wantUp(t *testing.T, res Result) {
	t.Helper()
	if !res.Up || res.Err != nil {
		t.Errorf("want up, got %+v", res)
	}
}

func wantDown(t *testing.T, res Result, target error, detail string) {
	t.Helper()
	if res.Up {
		t.Errorf("want down, got up: %+v", res)
		return
	}
	if target != nil && !errors.Is(res.Err, target) {
		t.Errorf("error %v, want %v", res.Err, target)
	}
	if !strings.Contains(res.Detail, detail) {
		t.Errorf("detail %q, want it to mention %q", res.Detail, detail)
	}
}

func TestTCP(t *testing.T) {
	addr := serveTCP(t, "127.0.0.1:0", func(net.Conn) {})
	spec := Spec{Kind: TCP}
	res := check(t, spec, targetAt(t, addr))
	wantUp(t, res)
	if res.RTT <= 0 {
		t.Errorf("RTT %v, want > 0", res.RTT)
	}
	wantDown(t, check(t, spec, targetAt(t, closedPort(t, "tcp"))), nil, "connect failed")

	// Source address honoured: a source that is not ours fails to bind.
	spec.Source = netip.MustParseAddr("198.18.255.1")
	wantDown(t, check(t, spec, targetAt(t, addr)), nil, "connect failed")
}

func TestHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/health":
			if r.Host != "www.example.org" {
				http.Error(w, "wrong host "+r.Host, http.StatusMisdirectedRequest)
				return
			}
			fmt.Fprintln(w, "status: OK")
		case "/slow":
			time.Sleep(2 * testTimeout)
		case "/moved":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	target := targetAt(t, srv.Listener.Addr().String())
	base := Spec{Kind: HTTP, Path: "/health", Host: "www.example.org"}

	wantUp(t, check(t, base, target))
	withBody := base
	withBody.ExpectBody = "status: OK"
	wantUp(t, check(t, withBody, target))
	withBody.ExpectBody = "status: FINE"
	wantDown(t, check(t, withBody, target), ErrBodyMismatch, `lacks "status: FINE"`)

	wrongHost := base
	wrongHost.Host = "other.example.org"
	wantDown(t, check(t, wrongHost, target), ErrUnexpectedStatus, "status 421")

	missing := base
	missing.Path = "/nope"
	wantDown(t, check(t, missing, target), ErrUnexpectedStatus, "status 404")
	missing.ExpectStatus = []StatusRange{{404, 404}}
	wantUp(t, check(t, missing, target))

	moved := base
	moved.Path = "/moved"
	wantUp(t, check(t, moved, target)) // 302 is within the default 200-399
	moved.ExpectStatus = []StatusRange{{200, 200}}
	wantDown(t, check(t, moved, target), ErrUnexpectedStatus, "status 302")

	head := base
	head.Method = http.MethodHead
	wantUp(t, check(t, head, target))

	slow := base
	slow.Path = "/slow"
	start := time.Now()
	wantDown(t, check(t, slow, target), context.DeadlineExceeded, "no response")
	if took := time.Since(start); took > testTimeout+100*time.Millisecond {
		t.Errorf("slow server held the check %v, timeout %v", took, testTimeout)
	}
	wantDown(t, check(t, base, targetAt(t, closedPort(t, "tcp"))), nil, "no response")
}

func TestHTTPS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "sni=%s", r.TLS.ServerName)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted-certificate case is expected
	srv.StartTLS()
	defer srv.Close()
	target := targetAt(t, srv.Listener.Addr().String())
	spec := Spec{Kind: HTTPS, Path: "/", Host: "www.example.org", SNI: "sni.example.org", ExpectBody: "sni=sni.example.org"}

	// The test certificate is not trusted by the system: verification fails.
	wantDown(t, check(t, spec, target), nil, "no response")
	spec.InsecureSkipVerify = true
	wantUp(t, check(t, spec, target))
	// Without an SNI the Host is sent as the server name.
	spec.SNI, spec.ExpectBody = "", "sni=www.example.org"
	wantUp(t, check(t, spec, target))
}

// udpServer answers every datagram with reply, or stays silent if reply is nil.
func udpServer(t *testing.T, reply []byte) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			_, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			if reply != nil {
				c.WriteTo(reply, from)
			}
		}
	}()
	return c.LocalAddr().String()
}

func TestUDP(t *testing.T) {
	echo := targetAt(t, udpServer(t, []byte("pong")))
	silent := targetAt(t, udpServer(t, nil))
	closed := targetAt(t, closedPort(t, "udp"))
	withPayload := Spec{Kind: UDP, Payload: []byte("ping")}
	noPayload := Spec{Kind: UDP}

	wantUp(t, check(t, withPayload, echo))
	wantDown(t, check(t, withPayload, silent), ErrNoReply, "no reply within the timeout")
	wantDown(t, check(t, withPayload, closed), ErrUnreachable, "ICMP port unreachable")

	wantUp(t, check(t, noPayload, silent))
	wantDown(t, check(t, noPayload, closed), ErrUnreachable, "ICMP port unreachable")
}

// serveTCP listens on addr until the test ends and runs handle, then
// closes, for every connection.
func serveTCP(t *testing.T, addr string, handle func(net.Conn)) string {
	t.Helper()
	network := "tcp4"
	if strings.HasPrefix(addr, "[") {
		network = "tcp6"
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return l.Addr().String()
}

// agentServer answers each connection with reply (as is), or holds it open
// silently if reply is "".
func agentServer(t *testing.T, reply string) string {
	return serveTCP(t, "127.0.0.1:0", func(c net.Conn) {
		if reply == "" {
			io.Copy(io.Discard, c)
			return
		}
		io.WriteString(c, reply)
	})
}

func TestAgent(t *testing.T) {
	cases := []struct {
		reply       string
		up, drain   bool
		load        int
		err, detail string
	}{
		{reply: "up\n", up: true, load: -1, detail: "agent: up"},
		{reply: "ready\r\n", up: true, load: -1},
		{reply: "75%\n", up: true, load: 25},
		{reply: "up 30%", up: true, load: 70}, // closed without a newline
		{reply: "up,load 42\n", up: true, load: 42},
		{reply: "cpu 90%\n", up: true, load: 90},
		{reply: "drain\n", up: true, drain: true, load: -1},
		{reply: "drain 0%\n", up: true, drain: true, load: 100},
		{reply: "down#disk full\n", load: -1, err: "agent reports down", detail: "(disk full)"},
		{reply: "maint\n", load: -1, err: "agent reports down"},
		{reply: "stopped\n", load: -1, err: "agent reports down"},
		{reply: "HTTP/1.1 400 Bad Request\r\n", load: -1, err: "not understood", detail: `unknown word "http/1.1"`},
		{reply: "load\n", load: -1, err: "not understood", detail: "load without a value"},
		{reply: "abc%\n", load: -1, err: "not understood", detail: "not a percentage"},
		{reply: "\n", load: -1, err: "not understood", detail: "empty reply"},
		{reply: "", load: -1, err: "i/o timeout", detail: "no reply from agent"},
	}
	for _, c := range cases {
		t.Run(strings.TrimSpace(c.reply), func(t *testing.T) {
			addr := netip.MustParseAddrPort(agentServer(t, c.reply))
			target := Target{Service: "web", Backend: "b1", Addr: addr.Addr(), Port: 80}
			res := check(t, Spec{Kind: Agent, AgentPort: addr.Port()}, target)
			if res.Up != c.up || res.Drain != c.drain || res.Load != c.load {
				t.Errorf("up=%v drain=%v load=%d, want %v %v %d (%+v)", res.Up, res.Drain, res.Load, c.up, c.drain, c.load, res)
			}
			if c.err == "" && res.Err != nil || c.err != "" && (res.Err == nil || !strings.Contains(res.Err.Error(), c.err)) {
				t.Errorf("error %v, want %q", res.Err, c.err)
			}
			if !strings.Contains(res.Detail, c.detail) {
				t.Errorf("detail %q, want %q", res.Detail, c.detail)
			}
		})
	}
	t.Run("no agent", func(t *testing.T) {
		addr := netip.MustParseAddrPort(closedPort(t, "tcp"))
		res := check(t, Spec{Kind: Agent, AgentPort: addr.Port()}, Target{Addr: addr.Addr(), Port: 80})
		wantDown(t, res, nil, "cannot connect to agent")
	})
}

func TestNone(t *testing.T) {
	wantUp(t, check(t, Spec{Kind: None}, targetAt(t, closedPort(t, "tcp"))))
}

func TestNewRejects(t *testing.T) {
	target := targetAt(t, "127.0.0.1:80")
	if _, err := New(Spec{Kind: "icmp"}, target); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("kind icmp: %v, want ErrUnknownKind", err)
	}
	target.Mode = "nat"
	if _, err := New(Spec{Kind: TCP, DSRPath: true}, target); !errors.Is(err, ErrNotDSR) {
		t.Errorf("DSR path on a nat target: %v, want ErrNotDSR", err)
	}
}

func TestSpecValidate(t *testing.T) {
	good := DefaultSpec()
	if err := good.Validate(); err != nil {
		t.Errorf("DefaultSpec: %v", err)
	}
	bad := Spec{Kind: "ping", Interval: time.Second, Timeout: 2 * time.Second, Jitter: 2,
		ExpectStatus: []StatusRange{{500, 200}}}
	err := bad.Validate()
	for _, want := range []string{`"ping"`, "timeout 2s", "rise 0", "jitter 2", "500-200"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v, want it to mention %s", err, want)
		}
	}
}

// Every kind of check leaves from the configured source address (the balancer's address on
// the backends' network, which their firewalls allow).
func TestChecksLeaveFromTheSourceAddress(t *testing.T) {
	source := netip.MustParseAddr("127.0.0.2")
	seen := make(chan netip.Addr, 1)
	record := func(addr string) {
		select {
		case seen <- netip.MustParseAddrPort(addr).Addr():
		default:
		}
	}
	tcp := serveTCP(t, "127.0.0.1:0", func(c net.Conn) {
		record(c.RemoteAddr().String())
		io.WriteString(c, "up\n")
	})
	web := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { record(r.RemoteAddr) }))
	t.Cleanup(web.Close)
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			record(from.String())
			pc.WriteTo(buf[:n], from)
		}
	}()
	for _, c := range []struct {
		spec Spec
		addr string
	}{
		{Spec{Kind: TCP}, tcp},
		{Spec{Kind: Agent}, tcp},
		{Spec{Kind: HTTP}, web.Listener.Addr().String()},
		{Spec{Kind: UDP, Payload: []byte("ping")}, pc.LocalAddr().String()},
	} {
		c.spec.Source = source
		wantUp(t, check(t, c.spec, targetAt(t, c.addr)))
		select {
		case from := <-seen:
			if from != source {
				t.Errorf("%s check came from %s, want %s", c.spec.Kind, from, source)
			}
		case <-time.After(time.Second):
			t.Errorf("%s check never reached the server", c.spec.Kind)
		}
	}
}
