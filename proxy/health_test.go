package proxy

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// An http health check (control/health) takes a backend whose /healthz fails out of the
// pool after fall probes and back after rise, and the backend_up gauge follows.
func TestHTTPHealthCheckTakesBackendOutAndBack(t *testing.T) {
	var sick atomic.Bool
	be := startBackend(t, "b", func(mux *http.ServeMux) {
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
			if r.Host != "check.example" {
				w.WriteHeader(http.StatusMisdirectedRequest)
			} else if sick.Load() {
				w.WriteHeader(http.StatusInternalServerError)
			}
		})
	})
	rp := startProxy(t, fmt.Sprintf(`
listeners: [{name: web, kind: http, address: "127.0.0.1:0"}]
default_pool: p
pools:
  - name: p
    health_check: {kind: http, path: /healthz, host: check.example, interval: 20ms, timeout: 10ms, rise: 2, fall: 2}
    backends: [{name: b1, address: %q}]
`, be.addr))
	up := func() float64 { return testutil.ToFloat64(rp.m.backendUp.WithLabelValues("p", "b1")) }
	if resp, e := get(t, http.DefaultClient, newReq(t, "GET", rp.url("web", "/x"))); resp.StatusCode != 200 || e.Backend != "b" {
		t.Fatalf("healthy backend: status %d from %q", resp.StatusCode, e.Backend)
	}
	sick.Store(true)
	waitFor(t, "backend down", func() bool { return !rp.pools["p"].anyUsable() && up() == 0 })
	if resp, _ := get(t, http.DefaultClient, newReq(t, "GET", rp.url("web", "/x"))); resp.StatusCode != 503 {
		t.Errorf("backend failing its check: %d, want 503", resp.StatusCode)
	}
	sick.Store(false)
	waitFor(t, "backend up", func() bool { return rp.pools["p"].anyUsable() && up() == 1 })
	if !contains(rp.log.String(), "backend up") {
		t.Error("recovery not logged")
	}
}

// A backend whose host name does not resolve cannot be vouched for: it starts down.
func TestHealthCheckedBackendThatDoesNotResolveIsDown(t *testing.T) {
	rp := startProxy(t, `
listeners: [{name: web, kind: http, address: "127.0.0.1:0"}]
default_pool: p
pools:
  - {name: p, health_check: {kind: tcp}, backends: [{name: b1, address: "no-such-host.invalid:80"}]}
`)
	if rp.pools["p"].anyUsable() {
		t.Error("unresolvable backend is usable")
	}
}
