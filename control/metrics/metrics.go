package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"tenbin/control/daemon"
)

// Source is what the collector reads at each scrape; *daemon.Engine is one.
type Source interface {
	Status() daemon.Status
	Services() []daemon.ServiceView
	Stats() daemon.Stats
}

// Metrics owns the registry. Create it before the engine (so the first publish is
// measured), then Attach the engine.
type Metrics struct {
	reg     *prometheus.Registry
	publish prometheus.Histogram
	src     atomic.Pointer[Source]
}

// New returns metrics with the publish histogram and the Go and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.publish = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "tenbin_publish_duration_seconds",
		Help:    "Time to publish a config set: fill the inactive set, flip, wait for every live lcore.",
		Buckets: prometheus.ExponentialBuckets(50e-6, 2, 16), // 50µs .. 1.6s
	})
	m.reg.MustRegister(m.publish, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), &collector{m: m})
	return m
}

// ObservePublish records one publish's duration (daemon.Options.ObservePublish).
func (m *Metrics) ObservePublish(d time.Duration) { m.publish.Observe(d.Seconds()) }

// Attach sets what the collector reads; before it, only the histogram and the process
// metrics are exported.
func (m *Metrics) Attach(src Source) { m.src.Store(&src) }

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Serve answers /metrics on addr (host:port) until ctx ends.
func (m *Metrics) Serve(ctx context.Context, addr string, log *slog.Logger) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	log.Info("metrics listening", "addr", l.Addr().String())
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}
