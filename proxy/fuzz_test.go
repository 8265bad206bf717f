package proxy

import (
	"bufio"
	"net/http"
	"strings"
	"sync"
	"testing"
)

var (
	fuzzTableOnce sync.Once
	fuzzTable     *routeTable
)

// FuzzRequestPath feeds arbitrary request targets through what the handler does before it
// forwards: parsing, path cleaning and routing. It must never panic, and the path it would
// forward must be absolute with no dot segments left for a backend to resolve differently.
func FuzzRequestPath(f *testing.F) {
	for _, s := range []string{"/", "/static/app.js", "/static/../admin", "//a//b/", "/v1/users?lang=ja",
		"/%2e%2e/%2fetc", "*", "http://api.example.com/v1/x", "/a/./b/../../..", "/\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		fuzzTableOnce.Do(func() { fuzzTable = routingTable(t) })
		raw := "GET " + target + " HTTP/1.1\r\nHost: www.example.org\r\nCookie: beta=1\r\n\r\n"
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return // net/http answers 400 before any of our code runs
		}
		r.RemoteAddr = "198.18.7.1:1234"
		p := r.URL.Path
		if p == "*" {
			return
		}
		c := cleanPath(p)
		if !strings.HasPrefix(c, "/") {
			t.Fatalf("cleanPath(%q) = %q: not absolute", p, c)
		}
		for _, seg := range strings.Split(c, "/") {
			if seg == ".." || seg == "." {
				t.Fatalf("cleanPath(%q) = %q keeps a dot segment", p, c)
			}
		}
		if cleanPath(c) != c {
			t.Fatalf("cleanPath not idempotent on %q", c)
		}
		f := requestFacts{host: requestHost(r.Host), path: c, source: sourceAddr(r.RemoteAddr)}
		if rt := fuzzTable.lookup(r, &f); rt == nil || rt.pool == nil {
			t.Fatalf("no route for %q", target)
		}
	})
}
