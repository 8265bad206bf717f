package proxy

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
)

func TestProxyHeaderRoundTrip(t *testing.T) {
	for _, tc := range []struct{ src, dst string }{
		{"198.18.0.7:40000", "198.18.1.1:443"},
		{"[2001:db8::7]:40000", "[2001:db8::1]:443"},
	} {
		src, dst := netip.MustParseAddrPort(tc.src), netip.MustParseAddrPort(tc.dst)
		hdr := appendProxyHeader(nil, src, dst)
		gotSrc, gotDst, ok, err := readProxyHeader(bytes.NewReader(append(hdr, "GET"...)))
		if err != nil || !ok || gotSrc != src || gotDst != dst {
			t.Errorf("%s: got %v %v %v %v", tc.src, gotSrc, gotDst, ok, err)
		}
	}
	// HAProxy's example v4 header, byte for byte.
	want := []byte("\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c\xc6\x12\x00\x07\xc6\x12\x01\x01\x9c\x40\x01\xbb")
	if got := appendProxyHeader(nil, netip.MustParseAddrPort("198.18.0.7:40000"), netip.MustParseAddrPort("198.18.1.1:443")); !bytes.Equal(got, want) {
		t.Errorf("header % x", got)
	}
}

func TestProxyHeaderRejectsGarbage(t *testing.T) {
	for name, in := range map[string][]byte{
		"http":      []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		"short":     []byte("\r\n\r\n\x00\r\nQUIT\n\x21"),
		"version 1": []byte("\r\n\r\n\x00\r\nQUIT\n\x11\x11\x00\x00"),
		"truncated": []byte("\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c\xc6\x12"),
	} {
		if _, _, _, err := readProxyHeader(bytes.NewReader(in)); !errors.Is(err, ErrProxyHeader) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	local := []byte("\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00")
	if _, _, ok, err := readProxyHeader(bytes.NewReader(local)); err != nil || ok {
		t.Errorf("LOCAL: ok %v err %v, want keep socket addresses", ok, err)
	}
}
