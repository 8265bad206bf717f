package proxy

import (
	"bytes"
	"strconv"
	"strings"
)

// reqHead is one HTTP/1.1 request head parsed in place: every slice points into the client
// connection's read buffer and stays valid until the head is discarded from it.
//
// The parser accepts only the plain, common shape of a request and says "not for me" to
// everything else (see parse), leaving those requests to net/http, which answers them exactly
// as it always has: malformed ones with 400 or 431, the rest through httputil.ReverseProxy.
type reqHead struct {
	method, target []byte
	path, query    []byte // target split at the first '?'
	fields         []headerField
	host           []byte
	hasHost        bool
	contentLength  int64 // -1: no Content-Length (no body)
	close          bool  // Connection: close
	teTrailers     bool  // TE names "trailers": tell the backend, as ReverseProxy does
	connTokens     [][]byte
	size           int // bytes of the head, blank line included
}

// headerField is one request header line; drop marks what is not forwarded.
type headerField struct {
	name, value []byte
	drop        bool
}

// headStatus says what the bytes read so far hold.
type headStatus int

const (
	headIncomplete headStatus = iota // no blank line yet: read more
	headComplete
	headNotFast // valid or not, net/http must see this request
)

// findHead looks for the end of a request head in b. Only CRLF line ends are the fast path's:
// a bare LF (which net/http tolerates) sends the request to net/http.
func findHead(b []byte) (size int, st headStatus) {
	lineStart := 0
	for {
		i := bytes.IndexByte(b[lineStart:], '\n')
		if i < 0 {
			return 0, headIncomplete
		}
		end := lineStart + i
		if end == 0 || b[end-1] != '\r' {
			return 0, headNotFast
		}
		if end-1 == lineStart { // empty line
			if lineStart == 0 {
				return 0, headNotFast // net/http skips leading blank lines; let it
			}
			return end + 1, headComplete
		}
		lineStart = end + 1
	}
}

// parse reads the head in b[:size] (from findHead). false: the request is not for the fast
// path: another version than HTTP/1.1, CONNECT or a target that is not a path, a missing or
// repeated Host, a body that is not given by one Content-Length, Upgrade (WebSocket, h2c),
// Expect, obsolete line folding, or anything net/http would refuse.
func (h *reqHead) parse(b []byte) bool {
	*h = reqHead{fields: h.fields[:0], connTokens: h.connTokens[:0], contentLength: -1, size: len(b)}
	line, rest, _ := bytes.Cut(b, crlf)
	sp1 := bytes.IndexByte(line, ' ')
	sp2 := bytes.LastIndexByte(line, ' ')
	if sp1 <= 0 || sp2 == sp1 || string(line[sp2+1:]) != "HTTP/1.1" {
		return false
	}
	h.method, h.target = line[:sp1], line[sp1+1:sp2]
	if !isToken(h.method) || string(h.method) == "CONNECT" || len(h.target) == 0 || h.target[0] != '/' {
		return false
	}
	for _, c := range h.target {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	h.path, h.query, _ = bytes.Cut(h.target, []byte{'?'})
	for {
		line, rest, _ = bytes.Cut(rest, crlf)
		if len(line) == 0 {
			break
		}
		if !h.field(line) {
			return false
		}
	}
	if !h.hasHost {
		return false
	}
	for _, tok := range h.connTokens { // RFC 9110 7.6.1: what Connection names is hop-by-hop
		for i := range h.fields {
			f := &h.fields[i]
			if bytes.EqualFold(f.name, tok) && requestHeaderKind(f.name) != hdrHost && requestHeaderKind(f.name) != hdrContentLength {
				f.drop = true
			}
		}
	}
	return true
}

var crlf = []byte("\r\n")

func (h *reqHead) field(line []byte) bool {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 || !isToken(line[:colon]) { // also refuses obs-fold and "Name :"
		return false
	}
	name, value := line[:colon], bytes.Trim(line[colon+1:], " \t")
	for _, c := range value {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	f := headerField{name: name, value: value}
	switch requestHeaderKind(name) {
	case hdrHost:
		if h.hasHost || !validHost(value) {
			return false
		}
		h.host, h.hasHost = value, true
	case hdrContentLength:
		if h.contentLength >= 0 || len(value) == 0 || len(value) > 18 {
			return false
		}
		n, err := strconv.ParseInt(string(value), 10, 64)
		if err != nil || value[0] == '+' || value[0] == '-' {
			return false
		}
		h.contentLength = n
	case hdrUnusual:
		return false
	case hdrConnection:
		f.drop = true
		for tok := range bytes.SplitSeq(value, []byte{','}) {
			tok = bytes.Trim(tok, " \t")
			switch {
			case len(tok) == 0:
			case bytes.EqualFold(tok, []byte("close")):
				h.close = true
			default:
				h.connTokens = append(h.connTokens, tok)
			}
		}
	case hdrTE:
		f.drop = true
		for tok := range bytes.SplitSeq(value, []byte{','}) {
			tok, _, _ = bytes.Cut(tok, []byte{';'})
			if bytes.EqualFold(bytes.Trim(tok, " \t"), []byte("trailers")) {
				h.teTrailers = true
			}
		}
	case hdrHop, hdrForwarding:
		f.drop = true
	}
	h.fields = append(h.fields, f)
	return true
}

// Header kinds the fast path treats specially.
const (
	hdrOther = iota
	hdrHost
	hdrContentLength
	hdrConnection
	hdrTE
	hdrHop        // hop-by-hop (RFC 9110 7.6.1, and the older names ReverseProxy drops)
	hdrForwarding // replaced by the proxy's own (see rewrite)
	hdrUnusual    // Transfer-Encoding, Upgrade, Expect: net/http's
)

func requestHeaderKind(name []byte) int {
	switch len(name) {
	case 2:
		if bytes.EqualFold(name, []byte("te")) {
			return hdrTE
		}
	case 4:
		if bytes.EqualFold(name, []byte("host")) {
			return hdrHost
		}
	case 6:
		if bytes.EqualFold(name, []byte("expect")) {
			return hdrUnusual
		}
	case 7:
		if bytes.EqualFold(name, []byte("upgrade")) {
			return hdrUnusual
		}
		if bytes.EqualFold(name, []byte("trailer")) {
			return hdrHop
		}
	case 9:
		if bytes.EqualFold(name, []byte("forwarded")) {
			return hdrForwarding
		}
	case 10:
		if bytes.EqualFold(name, []byte("connection")) {
			return hdrConnection
		}
		if bytes.EqualFold(name, []byte("keep-alive")) {
			return hdrHop
		}
	case 14:
		if bytes.EqualFold(name, []byte("content-length")) {
			return hdrContentLength
		}
	case 15:
		if bytes.EqualFold(name, []byte("x-forwarded-for")) {
			return hdrForwarding
		}
	case 16:
		if bytes.EqualFold(name, []byte("proxy-connection")) {
			return hdrHop
		}
		if bytes.EqualFold(name, []byte("x-forwarded-host")) {
			return hdrForwarding
		}
	case 17:
		if bytes.EqualFold(name, []byte("transfer-encoding")) {
			return hdrUnusual
		}
		if bytes.EqualFold(name, []byte("x-forwarded-proto")) {
			return hdrForwarding
		}
	case 18:
		if bytes.EqualFold(name, []byte("proxy-authenticate")) {
			return hdrHop
		}
	case 19:
		if bytes.EqualFold(name, []byte("proxy-authorization")) {
			return hdrHop
		}
	}
	return hdrOther
}

// isToken reports whether b is an RFC 9110 token.
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c >= 0x80 || !tokenChar[c] {
			return false
		}
	}
	return true
}

var tokenChar = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// validHost accepts what a Host header of a name, IPv4 or bracketed IPv6 address and port
// is made of; anything else goes to net/http, which decides.
func validHost(b []byte) bool {
	for _, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_':
		default:
			return false
		}
	}
	return true
}

// plainPath reports whether a request path is one that url parsing leaves as it is and
// cleanPath does not change: then the target is forwarded byte for byte.
func plainPath(p []byte) bool {
	prev := byte(0)
	for i, c := range p {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '/':
			if prev == '/' {
				return false
			}
		case c == '.':
			// a segment "." or ".." is a dot segment
			if prev == '/' && (i+1 == len(p) || p[i+1] == '/' || (p[i+1] == '.' && (i+2 == len(p) || p[i+2] == '/'))) {
				return false
			}
		case strings.IndexByte("-_~!$&'()*+,;=:@", c) >= 0:
		default:
			return false
		}
		prev = c
	}
	return true
}

// plainQuery reports whether ReverseProxy would forward the query unchanged (it re-encodes
// queries with ';' or a broken escape, see cleanQueryParams).
func plainQuery(q []byte) bool {
	for i := 0; i < len(q); i++ {
		switch q[i] {
		case ';':
			return false
		case '%':
			if i+2 >= len(q) || !isHex(q[i+1]) || !isHex(q[i+2]) {
				return false
			}
		}
	}
	return bytes.Count(q, []byte{'&'}) < 10000
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
