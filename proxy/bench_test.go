package proxy

import (
	"fmt"
	"io"
	"net/http"
	"testing"
)

// BenchmarkProxyHTTP measures one proxied keep-alive GET over loopback, client and backend
// included; BenchmarkDirectHTTP is the same request straight to the backend, the floor.
func BenchmarkProxyHTTP(b *testing.B) {
	be := startBackend(b, "b", func(mux *http.ServeMux) {
		mux.HandleFunc("/api/x", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	})
	rp := startProxyB(b, fmt.Sprintf(`
access_log: {output: "off"}
listeners: [{name: web, kind: http, address: "127.0.0.1:0"}]
routes: [{name: api, match: {path_prefix: /api/}, pool: p}]
pools: [{name: p, backends: [{name: b1, address: %q}, {name: b2, address: %q}]}]
`, be.addr, be.addr))
	runGets(b, "http://"+rp.Addr("web").String()+"/api/x")
}

func BenchmarkDirectHTTP(b *testing.B) {
	be := startBackend(b, "b", func(mux *http.ServeMux) {
		mux.HandleFunc("/api/x", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	})
	runGets(b, "http://"+be.addr+"/api/x")
}

func startProxyB(b *testing.B, text string) *Server {
	b.Helper()
	cfg, err := parseText(b, text)
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(cfg, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Shutdown(b.Context()) })
	return s
}

func runGets(b *testing.B, url string) {
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
