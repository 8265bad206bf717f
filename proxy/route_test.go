package proxy

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"gopkg.in/yaml.v3"
)

func parseText(t testing.TB, text string) (*Config, error) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	return Parse(&doc, "test.yaml")
}

// One route per matcher, each to its own pool, so the pool that answers names the matcher.
const routingConfig = `
listeners: [{name: web, kind: http, address: "127.0.0.1:0"}]
routes:
  - {name: exact-host, match: {hosts: [www.example.com]}, pool: exact}
  - {name: wild-host, match: {hosts: ["*.example.org"]}, pool: wild}
  - {name: prefix, match: {path_prefix: /static/}, pool: prefix}
  - {name: regex, match: {path_regex: "^/v[0-9]+/users$"}, pool: regex}
  - {name: ua, match: {headers: [{name: user-agent, regex: "(?i)curl/"}]}, pool: ua}
  - {name: header-value, match: {headers: [{name: X-Tenant, value: blue}]}, pool: header}
  - {name: header-present, match: {headers: [{name: X-Debug}]}, pool: present}
  - {name: cookie, match: {cookies: [{name: beta, value: "1"}]}, pool: cookie}
  - {name: query, match: {query: [{name: lang, regex: "^(ja|de)$"}]}, pool: query}
  - {name: source, match: {sources: [198.18.7.0/24, "2001:db8::/32"]}, pool: source}
  - {name: combined, match: {hosts: [api.example.net], path_prefix: /admin/, sources: [198.18.9.9]}, pool: combined}
default_pool: def
pools:
  - {name: exact, backends: [{name: b, address: "127.0.0.1:1"}]}
  - {name: wild, backends: [{name: b, address: "127.0.0.1:1"}]}
  - {name: prefix, backends: [{name: b, address: "127.0.0.1:1"}]}
  - {name: regex, backends: [{name: b, address: "127.0.0.1:1"}]}
  - {name: ua, backends: [{name: b, address: "127.0.0.1:1"}]}
  - {name: header, backends: [{name: b, address: "127.0.0.1:1"}]}
  - {name: present, backends: [{name: b, address: "127.0.0.1:1"}]}
  - {name: cookie, backends: [{name: b, address: "127.0.0.1:1"}]}
  - {name: query, backends: [{name: b, address: "127.0.0.1:1"}]}
  - {name: source, backends: [{name: b, address: "127.0.0.1:1"}]}
  - {name: combined, backends: [{name: b, address: "127.0.0.1:1"}]}
  - {name: def, backends: [{name: b, address: "127.0.0.1:1"}]}
`

// routingTable compiles routingConfig without binding anything.
func routingTable(tb testing.TB) *routeTable {
	tb.Helper()
	cfg, err := parseText(tb, routingConfig)
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := New(cfg, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return srv.table
}

func TestRouteMatchers(t *testing.T) {
	table := routingTable(t)
	tests := []struct {
		name   string
		target string
		host   string
		remote string
		header map[string]string
		want   string
	}{
		{"exact host", "/", "www.example.com", "", nil, "exact"},
		{"exact host with port and case", "/", "WWW.Example.com:8080", "", nil, "exact"},
		{"exact host only", "/", "example.com", "", nil, "def"},
		{"wildcard one level", "/", "a.example.org", "", nil, "wild"},
		{"wildcard two levels", "/", "a.b.example.org", "", nil, "wild"},
		{"wildcard not apex", "/", "example.org", "", nil, "def"},
		{"path prefix", "/static/app.js", "", "", nil, "prefix"},
		{"path prefix needs slash", "/staticx", "", "", nil, "def"},
		{"dot segments cleaned before matching", "/static/../v1/users", "", "", nil, "regex"},
		{"path regex", "/v2/users", "", "", nil, "regex"},
		{"path regex anchored", "/v2/users/1", "", "", nil, "def"},
		{"user agent regex", "/", "", "", map[string]string{"User-Agent": "CURL/8.0"}, "ua"},
		{"header exact", "/", "", "", map[string]string{"X-Tenant": "blue"}, "header"},
		{"header exact mismatch", "/", "", "", map[string]string{"X-Tenant": "red"}, "def"},
		{"header presence", "/", "", "", map[string]string{"X-Debug": ""}, "present"},
		{"cookie", "/", "", "", map[string]string{"Cookie": "a=b; beta=1"}, "cookie"},
		{"cookie mismatch", "/", "", "", map[string]string{"Cookie": "beta=0"}, "def"},
		{"query regex", "/?lang=ja", "", "", nil, "query"},
		{"query mismatch", "/?lang=fr", "", "", nil, "def"},
		{"source v4", "/", "", "198.18.7.20:5555", nil, "source"},
		{"source v6", "/", "", "[2001:db8::1]:5555", nil, "source"},
		{"source outside", "/", "", "198.18.8.20:5555", nil, "def"},
		{"all conditions", "/admin/x", "api.example.net", "198.18.9.9:1", nil, "combined"},
		{"one condition fails", "/admin/x", "api.example.net", "198.18.9.8:1", nil, "def"},
		{"first match wins", "/static/x", "www.example.com", "", nil, "exact"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tt.target, nil)
			if tt.host != "" {
				r.Host = tt.host
			}
			if tt.remote != "" {
				r.RemoteAddr = tt.remote
			}
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			f := requestFacts{host: requestHost(r.Host), path: cleanPath(r.URL.Path), source: sourceAddr(r.RemoteAddr)}
			if got := table.lookup(r, &f).pool.name; got != tt.want {
				t.Errorf("pool = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCleanPath(t *testing.T) {
	for in, want := range map[string]string{
		"/": "/", "": "/", "/a//b/": "/a/b/", "/a/./b": "/a/b", "/a/../../etc": "/etc", "x/y": "/x/y",
	} {
		if got := cleanPath(in); got != want {
			t.Errorf("cleanPath(%q) = %q, want %q", in, got, want)
		}
	}
}
