// Package proxy is tenbin's L7 / TLS proxy tier: `tcp+tls` listeners that terminate TLS and
// forward plain TCP, and `http` / `https` listeners that route HTTP/1.1 and HTTP/2 requests
// by host, path, header, cookie, query parameter and source address to backend pools.
//
// The flow is: Parse (or LoadFile) turns the `proxy:` YAML section into a Config and reports
// every problem with file:line:col; New compiles it into a Server; Start binds the
// listeners; Shutdown drains in-flight requests.
package proxy

import "time"

// Listener kinds.
const (
	KindTCPTLS = "tcp+tls" // terminate TLS, forward plain TCP to a pool
	KindHTTP   = "http"    // HTTP/1.1 (and HTTP/2 prior knowledge with h2c)
	KindHTTPS  = "https"   // HTTP/1.1 and HTTP/2 over TLS, chosen by ALPN
)

// Scheduler names, as in the control plane.
const (
	SchedMaglev    = "maglev"
	SchedHash      = "hash"
	SchedRR        = "rr"
	SchedWRR       = "wrr"
	SchedLeastConn = "least-conn"
	SchedFastest   = "fastest"
)

// Config is the `proxy:` section of a tenbin YAML file, as written by the operator.
// Zero values mean "use the default" (see DefaultConfig and the README).
type Config struct {
	MetricsAddress     string           `yaml:"metrics_address"`
	AccessLog          AccessLogConfig  `yaml:"access_log"`
	ShutdownGrace      time.Duration    `yaml:"shutdown_grace"`
	CertReloadInterval time.Duration    `yaml:"cert_reload_interval"`
	Listeners          []ListenerConfig `yaml:"listeners"`
	Routes             []RouteConfig    `yaml:"routes"`
	DefaultPool        string           `yaml:"default_pool"`
	Pools              []PoolConfig     `yaml:"pools"`

	file string   // where the section came from, for error messages
	Pos  Position `yaml:"-"`
}

// AccessLogConfig selects where access log lines go and in which format.
type AccessLogConfig struct {
	Format string `yaml:"format"` // text (default) or json
	Output string `yaml:"output"` // stdout (default), stderr, off, or a file path
}

// ListenerConfig is one bound socket.
type ListenerConfig struct {
	Name                   string              `yaml:"name"`
	Kind                   string              `yaml:"kind"`
	Address                string              `yaml:"address"`
	Certificates           []CertificateConfig `yaml:"certificates"`
	H2C                    bool                `yaml:"h2c"`
	AcceptProxyProtocol    bool                `yaml:"accept_proxy_protocol"`
	AcceptTOA              bool                `yaml:"accept_toa"` // client address from a full-NAT balancer's TOA option
	ProxyProtocolToBackend bool                `yaml:"proxy_protocol_to_backend"`
	Pool                   string              `yaml:"pool"` // tcp+tls only
	MaxHeaderBytes         int                 `yaml:"max_header_bytes"`
	Timeouts               ListenerTimeouts    `yaml:"timeouts"`

	Pos Position `yaml:"-"`
}

// ListenerTimeouts bound how long a client may take. Zero means the default.
type ListenerTimeouts struct {
	Handshake  time.Duration `yaml:"handshake"`   // TLS handshake and PROXY header
	ReadHeader time.Duration `yaml:"read_header"` // request line and headers
	Read       time.Duration `yaml:"read"`        // whole request including body; 0 = none
	Write      time.Duration `yaml:"write"`       // whole response; 0 = none (streaming)
	Idle       time.Duration `yaml:"idle"`        // keep-alive idle; tcp+tls: idle session
}

// CertificateConfig is one certificate chain and key in PEM files. Names lists the SNI
// names it answers (exact or "*.example.com"); empty means the DNS names in the certificate.
// The first certificate of a listener also answers clients that send no or an unknown name.
type CertificateConfig struct {
	Cert  string   `yaml:"cert"`
	Key   string   `yaml:"key"`
	Names []string `yaml:"names"`

	Pos Position `yaml:"-"`
}

// RouteConfig sends the requests that match to a pool. Routes are tried in order; the
// first match wins; requests no route matches go to default_pool.
type RouteConfig struct {
	Name  string      `yaml:"name"`
	Match MatchConfig `yaml:"match"`
	Pool  string      `yaml:"pool"`

	Pos Position `yaml:"-"`
}

// MatchConfig: every condition given must hold; within hosts and sources any entry may.
type MatchConfig struct {
	Hosts      []string           `yaml:"hosts"` // exact or "*.example.com"
	PathPrefix string             `yaml:"path_prefix"`
	PathRegex  string             `yaml:"path_regex"`
	Headers    []ValueMatchConfig `yaml:"headers"`
	Cookies    []ValueMatchConfig `yaml:"cookies"`
	Query      []ValueMatchConfig `yaml:"query"`
	Sources    []string           `yaml:"sources"` // CIDRs

	Pos Position `yaml:"-"`
}

// ValueMatchConfig matches a named header, cookie or query parameter: exact value, regex,
// or (neither given) mere presence.
type ValueMatchConfig struct {
	Name  string `yaml:"name"`
	Value string `yaml:"value"`
	Regex string `yaml:"regex"`

	Pos Position `yaml:"-"`
}

// PoolConfig is a set of backends and how to choose among them.
type PoolConfig struct {
	Name            string             `yaml:"name"`
	Scheduler       string             `yaml:"scheduler"`
	HashKey         string             `yaml:"hash_key"` // source_ip, header:NAME, cookie:NAME
	MaglevTableSize uint32             `yaml:"maglev_table_size"`
	Sticky          *StickyConfig      `yaml:"sticky"`
	HealthCheck     *HealthCheckConfig `yaml:"health_check"`
	Timeouts        PoolTimeouts       `yaml:"timeouts"`
	Retries         *int               `yaml:"retries"`
	Backends        []BackendConfig    `yaml:"backends"`

	Pos Position `yaml:"-"`
}

// StickyConfig makes the proxy insert a cookie naming the backend that served a client, and
// send the client's later requests there while it is healthy (HAProxy's `cookie X insert`).
type StickyConfig struct {
	Cookie string        `yaml:"cookie"`
	MaxAge time.Duration `yaml:"max_age"` // 0 = session cookie
}

// HealthCheckConfig probes each backend of a pool.
type HealthCheckConfig struct {
	Kind     string        `yaml:"kind"` // tcp or http
	Path     string        `yaml:"path"` // http only
	Host     string        `yaml:"host"` // http only; Host header to send
	Interval time.Duration `yaml:"interval"`
	Timeout  time.Duration `yaml:"timeout"`
	Rise     int           `yaml:"rise"`
	Fall     int           `yaml:"fall"`
}

// PoolTimeouts bound how long the proxy waits for a backend.
type PoolTimeouts struct {
	Connect  time.Duration `yaml:"connect"`
	Response time.Duration `yaml:"response"` // until response headers; 504 after
}

// BackendConfig is one server of a pool.
type BackendConfig struct {
	Name    string `yaml:"name"`
	Address string `yaml:"address"`
	Weight  *int   `yaml:"weight"` // default 1; 0 = drained

	Pos Position `yaml:"-"`
}

// Defaults, in one place.
const (
	DefaultShutdownGrace      = 30 * time.Second
	DefaultCertReloadInterval = 5 * time.Second
	DefaultMaxHeaderBytes     = 64 << 10
	DefaultHandshakeTimeout   = 10 * time.Second
	DefaultReadHeaderTimeout  = 10 * time.Second
	DefaultIdleTimeout        = 120 * time.Second
	DefaultConnectTimeout     = 3 * time.Second
	DefaultResponseTimeout    = 60 * time.Second
	DefaultRetries            = 2
	DefaultHealthInterval     = 5 * time.Second
	DefaultHealthTimeout      = 2 * time.Second
	DefaultHealthRise         = 2
	DefaultHealthFall         = 3
	DefaultStickyCookie       = "TENBINSRV"
)

// DefaultConfig is an empty section with every default filled in.
func DefaultConfig() Config {
	var c Config
	c.applyDefaults()
	return c
}

func (c *Config) applyDefaults() {
	if c.ShutdownGrace == 0 {
		c.ShutdownGrace = DefaultShutdownGrace
	}
	if c.CertReloadInterval == 0 {
		c.CertReloadInterval = DefaultCertReloadInterval
	}
	if c.AccessLog.Format == "" {
		c.AccessLog.Format = "text"
	}
	if c.AccessLog.Output == "" {
		c.AccessLog.Output = "stdout"
	}
	for i := range c.Listeners {
		l := &c.Listeners[i]
		if l.MaxHeaderBytes == 0 {
			l.MaxHeaderBytes = DefaultMaxHeaderBytes
		}
		t := &l.Timeouts
		t.Handshake = orDefault(t.Handshake, DefaultHandshakeTimeout)
		t.ReadHeader = orDefault(t.ReadHeader, DefaultReadHeaderTimeout)
		t.Idle = orDefault(t.Idle, DefaultIdleTimeout)
	}
	for i := range c.Pools {
		p := &c.Pools[i]
		if p.Scheduler == "" {
			p.Scheduler = SchedRR
		}
		if p.HashKey == "" {
			p.HashKey = "source_ip"
		}
		if p.Retries == nil {
			r := DefaultRetries
			p.Retries = &r
		}
		p.Timeouts.Connect = orDefault(p.Timeouts.Connect, DefaultConnectTimeout)
		p.Timeouts.Response = orDefault(p.Timeouts.Response, DefaultResponseTimeout)
		if p.Sticky != nil && p.Sticky.Cookie == "" {
			p.Sticky.Cookie = DefaultStickyCookie
		}
		if h := p.HealthCheck; h != nil {
			h.Interval = orDefault(h.Interval, DefaultHealthInterval)
			h.Timeout = orDefault(h.Timeout, DefaultHealthTimeout)
			if h.Rise == 0 {
				h.Rise = DefaultHealthRise
			}
			if h.Fall == 0 {
				h.Fall = DefaultHealthFall
			}
			if h.Kind == "http" && h.Path == "" {
				h.Path = "/"
			}
		}
		for j := range p.Backends {
			if p.Backends[j].Weight == nil {
				w := 1
				p.Backends[j].Weight = &w
			}
		}
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Position is where a list item stood in its file, set by Parse, so validation can point at
// it. It is not a YAML key.
type Position struct{ Line, Col int }
