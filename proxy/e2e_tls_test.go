package proxy

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// leafCN dials addr and returns the common name of the certificate the server presents.
func leafCN(t *testing.T, ca *testCA, addr, sni string) string {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.pool, ServerName: sni})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].Subject.CommonName
}

func TestCertificatesBySNIAndReload(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	wwwCrt, wwwKey := ca.issue(t, dir, "www", "www-v1", "www.example.com")
	wildCrt, wildKey := ca.issue(t, dir, "wild", "wild-v1", "*.example.org")
	be := startBackend(t, "b", nil)
	rp := startProxy(t, fmt.Sprintf(`
cert_reload_interval: 50ms
listeners:
  - name: tls
    kind: https
    address: "127.0.0.1:0"
    certificates: [{cert: %q, key: %q}, {cert: %q, key: %q}]
default_pool: p
pools: [{name: p, backends: [{name: b1, address: %q}]}]
`, wwwCrt, wwwKey, wildCrt, wildKey, be.addr))
	addr := rp.Addr("tls").String()

	if cn := leafCN(t, ca, addr, "www.example.com"); cn != "www-v1" {
		t.Errorf("exact SNI got %s", cn)
	}
	if cn := leafCN(t, ca, addr, "a.example.org"); cn != "wild-v1" {
		t.Errorf("wildcard SNI got %s", cn)
	}
	// TLS 1.1 is refused.
	if c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.pool, ServerName: "www.example.com",
		MaxVersion: tls.VersionTLS11}); err == nil {
		c.Close()
		t.Error("TLS 1.1 handshake succeeded")
	}

	// A keep-alive connection opened before the reload must keep working after it.
	c1 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool, ServerName: "www.example.com"}}}
	if resp, _ := get(t, c1, newReq(t, "GET", rp.url("tls", "/"))); resp.StatusCode != 200 {
		t.Fatalf("before reload: %d", resp.StatusCode)
	}

	ca.issue(t, dir, "www", "www-v2", "www.example.com") // replaced on disk: the watcher notices
	waitFor(t, "file-change reload", func() bool { return leafCN(t, ca, addr, "www.example.com") == "www-v2" })

	ca.issue(t, dir, "wild", "wild-v2", "*.example.org")
	if err := rp.ReloadCertificates(); err != nil { // what SIGHUP does
		t.Fatal(err)
	}
	if cn := leafCN(t, ca, addr, "x.example.org"); cn != "wild-v2" {
		t.Errorf("after explicit reload got %s", cn)
	}
	resp, _ := get(t, c1, newReq(t, "GET", rp.url("tls", "/")))
	if resp.StatusCode != 200 || resp.TLS.PeerCertificates[0].Subject.CommonName != "www-v1" {
		t.Errorf("old connection: status %d, want 200 on the connection made with www-v1", resp.StatusCode)
	}
	// A broken file keeps the old certificate in use.
	writeFileAtomic(t, wwwCrt, []byte("not a certificate"))
	if err := rp.ReloadCertificates(); err == nil {
		t.Error("reload of a broken file succeeded")
	}
	if cn := leafCN(t, ca, addr, "www.example.com"); cn != "www-v2" {
		t.Errorf("after failed reload got %s", cn)
	}

	// Handshakes are counted, failures too.
	if n := testutil.ToFloat64(rp.m.handshakes.WithLabelValues("tls")); n < 5 {
		t.Errorf("handshakes = %v", n)
	}
	if n := testutil.ToFloat64(rp.m.handshakeErrors.WithLabelValues("tls")); n < 1 {
		t.Errorf("handshake failures = %v", n)
	}
}

func TestTCPTLSForwardsWithProxyProtocol(t *testing.T) {
	ca := newTestCA(t)
	crt, key := ca.issue(t, t.TempDir(), "mail", "mail", "mail.example.com")
	// A plain TCP backend that reads the PROXY header, then echoes lines prefixed with the
	// client address the header named.
	bl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer bl.Close()
	go func() {
		for {
			c, err := bl.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				src, _, ok, err := readProxyHeader(c)
				if err != nil || !ok {
					fmt.Fprintf(c, "bad header: %v\n", err)
					return
				}
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					fmt.Fprintf(c, "%s %s\n", src.Addr(), sc.Text())
				}
			}()
		}
	}()
	rp := startProxy(t, fmt.Sprintf(`
listeners:
  - {name: imaps, kind: tcp+tls, address: "127.0.0.1:0", pool: mail, proxy_protocol_to_backend: true,
     certificates: [{cert: %q, key: %q}], timeouts: {idle: 2s}}
pools: [{name: mail, scheduler: hash, backends: [{name: dead, address: %q}, {name: m1, address: %q}]}]
`, crt, key, deadAddr(t), bl.Addr().String()))

	for i := range 3 { // the dead backend is skipped by retrying on connect failure
		c, err := tls.Dial("tcp", rp.Addr("imaps").String(), &tls.Config{RootCAs: ca.pool, ServerName: "mail.example.com"})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "hello %d\n", i)
		line, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if want := fmt.Sprintf("127.0.0.1 hello %d\n", i); line != want {
			t.Fatalf("got %q, %v; want %q", line, err, want)
		}
	}
	if n := testutil.ToFloat64(rp.m.tcpSessions.WithLabelValues("imaps", "m1", "ok")); n != 3 {
		t.Errorf("ok sessions = %v", n)
	}
}

func TestAcceptProxyProtocolSetsClientAddress(t *testing.T) {
	be := startBackend(t, "b", nil)
	rp := startProxy(t, fmt.Sprintf(`
listeners: [{name: web, kind: http, address: "127.0.0.1:0", accept_proxy_protocol: true}]
routes: [{name: lab, match: {sources: [198.18.0.0/15]}, pool: p}]
pools: [{name: p, backends: [{name: b1, address: %q}]}]
`, be.addr))
	c, err := net.Dial("tcp", rp.Addr("web").String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	hdr := appendProxyHeader(nil, netip.MustParseAddrPort("198.18.0.7:40000"), netip.MustParseAddrPort("198.18.1.1:80"))
	_, _ = c.Write(hdr)
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"X-Forwarded-For":["198.18.0.7"]`) {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	// Without a header the connection is refused, and counted.
	c2, _ := net.Dial("tcp", rp.Addr("web").String())
	_, _ = io.WriteString(c2, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	_ = c2.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, _ := c2.Read(make([]byte, 10)); n != 0 {
		t.Error("request without PROXY header was answered")
	}
	c2.Close()
}

func TestMetricsAndAccessLog(t *testing.T) {
	be := startBackend(t, "b", nil)
	rp := startProxy(t, fmt.Sprintf(`
listeners: [{name: web, kind: http, address: "127.0.0.1:0"}]
routes: [{name: api, match: {path_prefix: /api/}, pool: p}]
pools: [{name: p, backends: [{name: b1, address: %q}]}]
`, be.addr))
	for range 3 {
		get(t, http.DefaultClient, newReq(t, "GET", rp.url("web", "/api/x")))
	}
	get(t, http.DefaultClient, newReq(t, "GET", rp.url("web", "/nothing"))) // no default pool: 404
	if n := testutil.ToFloat64(rp.m.requests.WithLabelValues("web", "api", "b1", "2xx")); n != 3 {
		t.Errorf("2xx for api/b1 = %v", n)
	}
	if n := testutil.ToFloat64(rp.m.requests.WithLabelValues("web", "default", "", "4xx")); n != 1 {
		t.Errorf("4xx for default = %v", n)
	}
	if n := testutil.CollectAndCount(rp.m.latency); n != 2 {
		t.Errorf("latency series = %d", n)
	}
	// Served over HTTP as Prometheus text.
	ms := &http.Server{Handler: rp.MetricsHandler()}
	ml, _ := net.Listen("tcp", "127.0.0.1:0")
	go func() { _ = ms.Serve(ml) }()
	defer ms.Close()
	resp, err := http.Get("http://" + ml.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`tenbin_proxy_requests_total{backend="b1",code="2xx",listener="web",route="api"} 3`,
		"tenbin_proxy_active_connections", `tenbin_proxy_request_duration_seconds_bucket{backend="b1"`} {
		if !strings.Contains(string(text), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	log := rp.access.String()
	if strings.Count(log, `"msg":"request"`) != 4 || !strings.Contains(log, `"route":"api","backend":"b1"`) ||
		!strings.Contains(log, `"status":404`) {
		t.Errorf("access log:\n%s", log)
	}
}
