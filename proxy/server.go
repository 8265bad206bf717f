package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"tenbin/control/health"
	"tenbin/realserver/toa"
)

// Options are what the caller supplies besides the config.
type Options struct {
	Logger    *slog.Logger // errors and state changes; nil: slog.Default()
	AccessLog *slog.Logger // one line a request; nil: none
}

// Server is a running proxy tier: its listeners, pools, health checks and metrics.
type Server struct {
	cfg       *Config
	log       *slog.Logger
	access    *slog.Logger
	m         *metrics
	pools     map[string]*pool
	table     *routeTable
	listeners []*listenerRuntime

	inflight sync.WaitGroup // HTTP handlers running, upgraded tunnels included
	bgCancel context.CancelFunc
	// reqCtx is every request's base context; cancelling it at the end of a forced
	// shutdown closes upgraded tunnels, which net/http no longer tracks.
	reqCtx    context.Context
	reqCancel context.CancelFunc
	bg        sync.WaitGroup
	health    *health.Monitor // nil: no pool is health checked
}

type listenerRuntime struct {
	cfg   ListenerConfig
	certs *certStore
	ln    *clientListener
	http  *http.Server
	fast  *fastServer // plain http listeners: HTTP/1.1 requests not handed to http
	tcp   *tcpForwarder
	done  chan error
}

// New compiles a validated config: pools, routes and certificates. Nothing is bound yet.
func New(cfg *Config, opts Options) (*Server, error) {
	s := &Server{cfg: cfg, log: opts.Logger, access: opts.AccessLog, m: newMetrics(), pools: map[string]*pool{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	for i := range cfg.Pools {
		p, err := newPool(&cfg.Pools[i])
		if err != nil {
			return nil, fmt.Errorf("pool %s: %w", cfg.Pools[i].Name, err)
		}
		s.pools[p.name] = p
		for _, b := range p.backends {
			s.m.backendUp.WithLabelValues(p.name, b.name).Set(1)
		}
	}
	s.table = compileRoutes(cfg, s.pools)
	s.reqCtx, s.reqCancel = context.WithCancel(context.Background())
	for _, lc := range cfg.Listeners {
		lr := &listenerRuntime{cfg: lc}
		if len(lc.Certificates) > 0 {
			cs, err := newCertStore(lc.Certificates)
			if err != nil {
				return nil, fmt.Errorf("listener %s: %w", lc.Name, err)
			}
			lr.certs = cs
		}
		s.listeners = append(s.listeners, lr)
	}
	return s, nil
}

// Start binds every listener and starts serving, health checking and watching certificate
// files. A bind failure closes what was bound and is returned.
func (s *Server) Start() error {
	var bound []net.Listener
	for _, lr := range s.listeners {
		var lc net.ListenConfig
		if lr.cfg.AcceptTOA {
			lc.Control = toa.SaveSYN // the kernel keeps each SYN, whose TOA option names the client
		}
		l, err := lc.Listen(context.Background(), "tcp", lr.cfg.Address)
		if err != nil {
			for _, b := range bound {
				b.Close()
			}
			return fmt.Errorf("listener %s: %w", lr.cfg.Name, err)
		}
		bound = append(bound, l)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.bgCancel = cancel
	for i, lr := range s.listeners {
		s.serve(lr, bound[i])
	}
	s.health = s.startHealthChecks(ctx)
	s.bg.Go(func() { s.watchCertificates(ctx) })
	s.bg.Go(func() { s.reapIdleBackendConns(ctx) })
	return nil
}

func (s *Server) serve(lr *listenerRuntime, l net.Listener) {
	lc := lr.cfg
	var protos []string
	switch lc.Kind {
	case KindHTTPS:
		protos = []string{"h2", "http/1.1"}
	}
	var tlsCfg *tls.Config
	if lr.certs != nil {
		tlsCfg = lr.certs.tlsConfig(protos)
	}
	lr.ln = newClientListener(l, lc.Name, tlsCfg, lc.AcceptProxyProtocol, lc.AcceptTOA, lc.Timeouts.Handshake, s.m, s.log)
	lr.done = make(chan error, 2)
	if lc.Kind == KindTCPTLS {
		lr.tcp = &tcpForwarder{name: lc.Name, pool: s.pools[lc.Pool], sendProxy: lc.ProxyProtocolToBackend,
			idleTimeout: lc.Timeouts.Idle, m: s.m, log: s.log, sessions: map[net.Conn]struct{}{}}
		go func() { lr.done <- lr.tcp.serve(lr.ln) }()
		return
	}
	tracker := newConnTracker(lc.Name, s.m, s.log)
	h := &httpHandler{listener: lc.Name, table: s.table, proxy: newReverseProxy(s.m, s.log), m: s.m,
		log: s.log, access: s.access, inflight: &s.inflight}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: lc.Timeouts.ReadHeader,
		ReadTimeout:       lc.Timeouts.Read,
		WriteTimeout:      lc.Timeouts.Write,
		IdleTimeout:       lc.Timeouts.Idle,
		MaxHeaderBytes:    lc.MaxHeaderBytes,
		ConnState:         tracker.connState,
		ConnContext:       tracker.connContext,
		BaseContext:       func(net.Listener) context.Context { return s.reqCtx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		Protocols:         new(http.Protocols),
	}
	srv.Protocols.SetHTTP1(true)
	if lc.Kind == KindHTTPS {
		srv.Protocols.SetHTTP2(true)
	}
	if lc.H2C {
		srv.Protocols.SetUnencryptedHTTP2(true)
	}
	lr.http = srv
	var served net.Listener = lr.ln
	if lc.Kind == KindHTTP {
		ho := newHandoffListener(lr.ln.Addr())
		lr.fast = newFastServer(s, lc, ho)
		served = ho
		go func() { lr.done <- lr.fast.serve(lr.ln) }()
	}
	go func() {
		err := srv.Serve(served)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		lr.done <- err
	}()
}

// Addr is where the named listener is bound (useful with port 0), nil if unknown.
func (s *Server) Addr(listener string) net.Addr {
	for _, lr := range s.listeners {
		if lr.cfg.Name == listener && lr.ln != nil {
			return lr.ln.Addr()
		}
	}
	return nil
}

// Registry holds the proxy's metrics, for the caller to serve or gather.
func (s *Server) Registry() *prometheus.Registry { return s.m.registry }

// MetricsHandler serves the registry in the Prometheus text format.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.m.registry, promhttp.HandlerOpts{})
}

// ReloadCertificates reads every listener's certificate files again (what SIGHUP does). New
// handshakes use the new certificates; open connections are untouched. A listener whose
// files fail to load keeps its old certificates, and the error is returned.
func (s *Server) ReloadCertificates() error {
	var errs []error
	for _, lr := range s.listeners {
		if lr.certs == nil {
			continue
		}
		if err := lr.certs.reload(); err != nil {
			errs = append(errs, fmt.Errorf("listener %s: %w", lr.cfg.Name, err))
		}
	}
	return errors.Join(errs...)
}

// watchCertificates reloads a listener's certificates when their files change.
func (s *Server) watchCertificates(ctx context.Context) {
	t := time.NewTicker(s.cfg.CertReloadInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, lr := range s.listeners {
			if lr.certs == nil || !lr.certs.changed() {
				continue
			}
			if err := lr.certs.reload(); err != nil {
				s.log.Error("certificate reload", "listener", lr.cfg.Name, "err", err)
			} else {
				s.log.Info("certificates reloaded", "listener", lr.cfg.Name)
			}
		}
	}
}

// Shutdown stops accepting, lets in-flight requests and sessions finish, and when ctx ends
// first, cuts what is left and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, len(s.listeners))
	for i, lr := range s.listeners {
		if lr.ln == nil {
			continue
		}
		wg.Go(func() {
			if lr.fast != nil {
				lr.ln.Close()
				if err := lr.fast.shutdown(ctx); err != nil {
					errs[i] = err
				}
			}
			if lr.http != nil {
				if err := lr.http.Shutdown(ctx); err != nil {
					lr.http.Close()
					errs[i] = err
				}
				return
			}
			lr.ln.Close()
			errs[i] = lr.tcp.shutdown(ctx)
		})
	}
	wg.Wait()
	// Upgraded connections (WebSocket) are no longer net/http's; wait for their handlers.
	drained := make(chan struct{})
	go func() { s.inflight.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-ctx.Done():
		errs = append(errs, ctx.Err())
		s.reqCancel()
		<-drained
	}
	s.reqCancel()
	if s.bgCancel != nil {
		s.bgCancel()
	}
	s.bg.Wait()
	s.forEachBackend(func(b *backend) { b.conns.reap(time.Now().Add(time.Hour)) })
	if s.health != nil {
		s.health.Close()
	}
	for _, p := range s.pools {
		p.transport.CloseIdleConnections()
	}
	return errors.Join(errs...)
}
