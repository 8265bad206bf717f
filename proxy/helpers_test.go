package proxy

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// testBackend is a real net/http server on 127.0.0.1 that says who it is and what it got.
type testBackend struct {
	name string
	addr string
	srv  *http.Server
}

// echo is what a backend reports about a request.
type echo struct {
	Backend string
	Path    string
	Host    string
	Header  http.Header
}

func startBackend(t testing.TB, name string, extra func(mux *http.ServeMux)) *testBackend {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Backend", name)
		_ = json.NewEncoder(w).Encode(echo{Backend: name, Path: r.URL.Path, Host: r.Host, Header: r.Header})
	})
	if extra != nil {
		extra(mux)
	}
	b := &testBackend{name: name, addr: l.Addr().String(), srv: &http.Server{Handler: mux}}
	go func() { _ = b.srv.Serve(l) }()
	t.Cleanup(func() { b.srv.Close() })
	return b
}

// deadAddr is a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := l.Addr().String()
	l.Close()
	return a
}

// logBuffer collects log output safely across goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type runningProxy struct {
	*Server
	log    *logBuffer
	access *logBuffer
}

// startProxy parses yamlText as a proxy: section, starts it and stops it at cleanup.
func startProxy(t *testing.T, yamlText string) *runningProxy {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(yamlText), &doc); err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(&doc, "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rp := &runningProxy{log: &logBuffer{}, access: &logBuffer{}}
	rp.Server, err = New(cfg, Options{
		Logger:    slog.New(slog.NewTextHandler(rp.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		AccessLog: slog.New(slog.NewJSONHandler(rp.access, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := rp.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = rp.Shutdown(ctx)
	})
	return rp
}

func (rp *runningProxy) url(listener, path string) string {
	scheme := "http"
	for _, lr := range rp.listeners {
		if lr.cfg.Name == listener && lr.cfg.Kind == KindHTTPS {
			scheme = "https"
		}
	}
	return scheme + "://" + rp.Addr(listener).String() + path
}

// get sends one request and decodes the backend's echo (zero echo if the proxy answered).
func get(t *testing.T, c *http.Client, req *http.Request) (*http.Response, echo) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e echo
	_ = json.Unmarshal(body, &e)
	return resp, e
}

func newReq(t *testing.T, method, url string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// testCA issues short-lived ECDSA certificates for tests.
type testCA struct {
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tenbin test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{key: key, cert: cert, pool: pool}
}

// issue writes a leaf for names into dir/base.{crt,key} and returns the paths.
func (ca *testCA) issue(t *testing.T, dir, base, cn string, names ...string) (certPath, keyPath string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certPath, keyPath = filepath.Join(dir, base+".crt"), filepath.Join(dir, base+".key")
	writeFileAtomic(t, certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	writeFileAtomic(t, keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
	return certPath, keyPath
}

func writeFileAtomic(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// tlsClient trusts ca and speaks HTTP/2 when the server offers it.
func tlsClient(ca *testCA, serverName string) *http.Client {
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: ca.pool, ServerName: serverName},
		ForceAttemptHTTP2: true,
	}
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

// waitFor polls cond for up to 3 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
