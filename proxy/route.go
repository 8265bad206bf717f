package proxy

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"regexp"
	"strings"
)

// route is one compiled routing rule. Every condition that is set must hold.
type route struct {
	name       string
	pool       *pool
	hosts      []string // lower case; "*.example.com" matches any name below example.com
	pathPrefix string
	pathRegex  *regexp.Regexp
	headers    []valueMatcher
	cookies    []valueMatcher
	query      []valueMatcher
	sources    []netip.Prefix
}

// valueMatcher matches one named header, cookie or query parameter.
type valueMatcher struct {
	name  string
	value string
	regex *regexp.Regexp
}

func (m valueMatcher) matches(vals []string) bool {
	for _, v := range vals {
		switch {
		case m.regex != nil:
			if m.regex.MatchString(v) {
				return true
			}
		case m.value != "":
			if v == m.value {
				return true
			}
		default:
			return true // presence
		}
	}
	return false
}

// routeTable holds the routes in order and the fallback.
type routeTable struct {
	routes []*route
	def    *route // pool nil when there is no default pool: 404
	// needsRequest: some route matches headers, cookies or query parameters, which the fast
	// path then reads from an *http.Request it builds for the purpose.
	needsRequest bool
}

// requestFacts are the parts of a request the matchers read, computed once.
type requestFacts struct {
	host   string // lower case, without port
	path   string // cleaned
	source netip.Addr
	query  url.Values // parsed on first use
}

func (t *routeTable) lookup(r *http.Request, f *requestFacts) *route {
	for _, rt := range t.routes {
		if rt.matches(r, f) {
			return rt
		}
	}
	return t.def
}

func (rt *route) matches(r *http.Request, f *requestFacts) bool {
	if len(rt.hosts) > 0 && !hostMatches(rt.hosts, f.host) {
		return false
	}
	if rt.pathPrefix != "" && !strings.HasPrefix(f.path, rt.pathPrefix) {
		return false
	}
	if rt.pathRegex != nil && !rt.pathRegex.MatchString(f.path) {
		return false
	}
	for _, m := range rt.headers {
		if !m.matches(r.Header.Values(m.name)) {
			return false
		}
	}
	for _, m := range rt.cookies {
		var vals []string
		for _, c := range r.CookiesNamed(m.name) {
			vals = append(vals, c.Value)
		}
		if !m.matches(vals) {
			return false
		}
	}
	if len(rt.query) > 0 {
		if f.query == nil {
			f.query = r.URL.Query()
		}
		for _, m := range rt.query {
			if !m.matches(f.query[m.name]) {
				return false
			}
		}
	}
	if len(rt.sources) > 0 {
		ok := false
		for _, p := range rt.sources {
			if p.Contains(f.source) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func hostMatches(patterns []string, host string) bool {
	for _, p := range patterns {
		if suffix, ok := strings.CutPrefix(p, "*"); ok {
			if len(host) > len(suffix) && strings.HasSuffix(host, suffix) {
				return true
			}
		} else if host == p {
			return true
		}
	}
	return false
}

// requestHost returns the request's host in lower case without a port or trailing dot.
func requestHost(hostport string) string {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// cleanPath removes dot segments and doubled slashes, keeping a trailing slash, so that
// "/public/../admin" is routed, and forwarded, as "/admin" and cannot slip past a rule.
func cleanPath(p string) string {
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// sourceAddr parses the client address from a RemoteAddr "ip:port".
func sourceAddr(remote string) netip.Addr {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		a, _ := netip.ParseAddr(remote)
		return a.Unmap()
	}
	return ap.Addr().Unmap()
}

// compileRoutes builds the table from a validated config.
func compileRoutes(c *Config, pools map[string]*pool) *routeTable {
	t := &routeTable{def: &route{name: "default", pool: pools[c.DefaultPool]}}
	for _, rc := range c.Routes {
		m := rc.Match
		rt := &route{name: rc.Name, pool: pools[rc.Pool], pathPrefix: m.PathPrefix}
		for _, h := range m.Hosts {
			rt.hosts = append(rt.hosts, strings.TrimSuffix(strings.ToLower(h), "."))
		}
		if m.PathRegex != "" {
			rt.pathRegex = regexp.MustCompile(m.PathRegex) // validated
		}
		rt.headers = compileValueMatchers(m.Headers, true)
		rt.cookies = compileValueMatchers(m.Cookies, false)
		rt.query = compileValueMatchers(m.Query, false)
		for _, s := range m.Sources {
			p, _ := parseSource(s) // validated
			rt.sources = append(rt.sources, p)
		}
		t.routes = append(t.routes, rt)
		t.needsRequest = t.needsRequest || len(rt.headers)+len(rt.cookies)+len(rt.query) > 0
	}
	return t
}

func compileValueMatchers(in []ValueMatchConfig, header bool) []valueMatcher {
	var out []valueMatcher
	for _, v := range in {
		m := valueMatcher{name: v.Name, value: v.Value}
		if header {
			m.name = http.CanonicalHeaderKey(v.Name)
		}
		if v.Regex != "" {
			m.regex = regexp.MustCompile(v.Regex) // validated
		}
		out = append(out, m)
	}
	return out
}
