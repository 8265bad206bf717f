package proxy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
)

// PROXY protocol version 2 (haproxy.org/download/2.9/doc/proxy-protocol.txt), the binary
// form only: what tenbin's NAT mode and HAProxy's send-proxy-v2 emit.

var proxyV2Signature = []byte("\r\n\r\n\x00\r\nQUIT\n")

// ErrProxyHeader is a missing or malformed PROXY v2 header on a listener that requires one.
var ErrProxyHeader = errors.New("bad PROXY v2 header")

const (
	proxyCmdLocal = 0x20
	proxyCmdProxy = 0x21
	proxyFamTCP4  = 0x11
	proxyFamTCP6  = 0x21
)

// readProxyHeader reads exactly one PROXY v2 header from r. For the LOCAL command (health
// checks of the sender itself) or an unknown family ok is false: keep the socket's addresses.
func readProxyHeader(r io.Reader) (src, dst netip.AddrPort, ok bool, err error) {
	var hdr [16]byte
	if _, err = io.ReadFull(r, hdr[:]); err != nil {
		return src, dst, false, fmt.Errorf("%w: %w", ErrProxyHeader, err)
	}
	if !bytes.Equal(hdr[:12], proxyV2Signature) {
		return src, dst, false, fmt.Errorf("%w: no signature", ErrProxyHeader)
	}
	verCmd, fam := hdr[12], hdr[13]
	if verCmd != proxyCmdLocal && verCmd != proxyCmdProxy {
		return src, dst, false, fmt.Errorf("%w: version/command %#x", ErrProxyHeader, verCmd)
	}
	body := make([]byte, binary.BigEndian.Uint16(hdr[14:16]))
	if _, err = io.ReadFull(r, body); err != nil {
		return src, dst, false, fmt.Errorf("%w: %w", ErrProxyHeader, err)
	}
	if verCmd == proxyCmdLocal {
		return src, dst, false, nil
	}
	switch fam {
	case proxyFamTCP4:
		if len(body) < 12 {
			return src, dst, false, fmt.Errorf("%w: short IPv4 addresses", ErrProxyHeader)
		}
		src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(body[0:4])), binary.BigEndian.Uint16(body[8:10]))
		dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(body[4:8])), binary.BigEndian.Uint16(body[10:12]))
	case proxyFamTCP6:
		if len(body) < 36 {
			return src, dst, false, fmt.Errorf("%w: short IPv6 addresses", ErrProxyHeader)
		}
		src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(body[0:16])), binary.BigEndian.Uint16(body[32:34]))
		dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(body[16:32])), binary.BigEndian.Uint16(body[34:36]))
	default:
		return src, dst, false, nil // UNSPEC, UDP or unix: nothing we route on
	}
	return src, dst, true, nil
}

// appendProxyHeader appends a PROXY v2 header for a TCP connection from src to dst. Mixed
// families are sent as IPv6 with the IPv4 address mapped.
func appendProxyHeader(b []byte, src, dst netip.AddrPort) []byte {
	b = append(b, proxyV2Signature...)
	s, d := src.Addr().Unmap(), dst.Addr().Unmap()
	if s.Is4() && d.Is4() {
		b = append(b, proxyCmdProxy, proxyFamTCP4, 0, 12)
		b = append(b, s.AsSlice()...)
		b = append(b, d.AsSlice()...)
	} else {
		s16, d16 := src.Addr().As16(), dst.Addr().As16()
		b = append(b, proxyCmdProxy, proxyFamTCP6, 0, 36)
		b = append(b, s16[:]...)
		b = append(b, d16[:]...)
	}
	b = binary.BigEndian.AppendUint16(b, src.Port())
	return binary.BigEndian.AppendUint16(b, dst.Port())
}

// addrConn is a connection whose addresses came from a PROXY header.
type addrConn struct {
	net.Conn
	remote, local net.Addr
}

func (c *addrConn) RemoteAddr() net.Addr { return c.remote }
func (c *addrConn) LocalAddr() net.Addr  { return c.local }

// addrPortOf converts a socket address to netip form (zero if it is not TCP/UDP).
func addrPortOf(a net.Addr) netip.AddrPort {
	switch v := a.(type) {
	case *net.TCPAddr:
		return v.AddrPort()
	case *addrPortAddr:
		return v.AddrPort
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

// addrPortAddr is a net.Addr for an address learned from a PROXY header.
type addrPortAddr struct{ netip.AddrPort }

func (addrPortAddr) Network() string { return "tcp" }
