package proxy

import (
	"bufio"
	"bytes"
	"net/http"
	"testing"
)

// FuzzFastPathRequestHead checks the fast path's request parser against net/http's: what the
// fast path accepts, net/http must accept too and read the same way (method, target, Host,
// body length, close); the rest goes to net/http anyway. It must never panic.
func FuzzFastPathRequestHead(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /a?b=c HTTP/1.1\r\nHost: example.com:80\r\nContent-Length: 3\r\nConnection: close, X-A\r\nX-A: 1\r\n\r\nabc",
		"GET /x HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: x\r\n Folded: y\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: x\r\nTE: trailers\r\nBad\x7fHeader: 1\r\n\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		size, st := findHead([]byte(raw))
		if st != headComplete {
			return
		}
		var h reqHead
		if !h.parse([]byte(raw[:size])) {
			return
		}
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader([]byte(raw))))
		if err != nil {
			t.Fatalf("fast path accepts what net/http refuses (%v): %q", err, raw)
		}
		if r.Method != string(h.method) || r.RequestURI != string(h.target) || r.Host != string(h.host) {
			t.Fatalf("read differently: %q %q %q vs %q %q %q", r.Method, r.RequestURI, r.Host, h.method, h.target, h.host)
		}
		if want := max(r.ContentLength, 0); max(h.contentLength, 0) != want {
			t.Fatalf("body length %d, net/http %d: %q", h.contentLength, want, raw)
		}
		if r.Close != h.close {
			t.Fatalf("close %v, net/http %v: %q", h.close, r.Close, raw)
		}
	})
}
