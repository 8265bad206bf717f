package proxy

import (
	"fmt"
	"net/http"
	"strings"
)

// hashKey names the request property a consistent-hash pool spreads on.
type hashKey struct {
	kind string // "source_ip", "header" or "cookie"
	name string
}

func parseHashKey(s string) (hashKey, error) {
	if s == "source_ip" {
		return hashKey{kind: "source_ip"}, nil
	}
	kind, name, ok := strings.Cut(s, ":")
	if ok && name != "" && (kind == "header" || kind == "cookie") {
		return hashKey{kind: kind, name: name}, nil
	}
	return hashKey{}, fmt.Errorf("hash_key %q: want source_ip, header:NAME or cookie:NAME", s)
}

// of returns the key's value for a request from clientIP. A request without the header or
// cookie falls back to its source address, so it still lands on a stable backend.
func (k hashKey) of(r *http.Request, clientIP string) string {
	if r != nil {
		switch k.kind {
		case "header":
			if v := r.Header.Get(k.name); v != "" {
				return v
			}
		case "cookie":
			if c, err := r.Cookie(k.name); err == nil && c.Value != "" {
				return c.Value
			}
		}
	}
	return clientIP
}

// fnv64a hashes s without allocating; stable across processes and machines, so every proxy
// node sends the same key to the same backend.
func fnv64a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
