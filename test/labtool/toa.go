package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A full-NAT balancer hides the client behind one of its local addresses and carries the
// client's address in a TCP option on the SYN (TOA, as DPVS does: kind 254, length 8 with port
// and IPv4 address, or 20 with port and IPv6 address). Real servers usually read it with a
// kernel module; the lab server reads it itself from the SYN the kernel saved for the
// connection (TCP_SAVE_SYN on the listener, TCP_SAVED_SYN on the accepted socket).

const (
	tcpOptTOA   = 254
	tcpOptEOL   = 0
	tcpOptNOP   = 1
	toaLenIPv4  = 8
	toaLenIPv6  = 20
	maxSavedSYN = 60 + 60 + 40 // largest IPv4 header + TCP header (IPv6: 40 + 60)
)

var errNoTOA = errors.New("no TOA option")

// saveSYNControl is a net.ListenConfig.Control that makes the kernel keep each connection's
// SYN headers for the accepting side.
func saveSYNControl(network, address string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_SAVE_SYN, 1)
	}); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("TCP_SAVE_SYN on %s: %w", address, serr)
	}
	return nil
}

// savedSYN returns the IP and TCP headers of the SYN that opened conn. The kernel hands them
// out once per connection.
func savedSYN(conn syscall.Conn) ([]byte, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, maxSavedSYN)
	n := uint32(len(buf))
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		// x/sys/unix has no getsockopt that returns raw bytes of any length.
		_, _, errno = unix.Syscall6(unix.SYS_GETSOCKOPT, fd, unix.IPPROTO_TCP, unix.TCP_SAVED_SYN,
			uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
	}); err != nil {
		return nil, err
	}
	if errno != 0 {
		return nil, fmt.Errorf("TCP_SAVED_SYN: %w", errno)
	}
	return buf[:n], nil
}

// parseTOA finds the TOA option in a SYN's IP and TCP headers.
func parseTOA(syn []byte) (netip.AddrPort, error) {
	if len(syn) < 1 {
		return netip.AddrPort{}, fmt.Errorf("saved SYN: empty")
	}
	var l4 int
	switch syn[0] >> 4 {
	case 4:
		l4 = int(syn[0]&0x0f) * 4
	case 6:
		l4 = 40 // the balancer sends no extension headers
	default:
		return netip.AddrPort{}, fmt.Errorf("saved SYN: IP version %d", syn[0]>>4)
	}
	if len(syn) < l4+20 {
		return netip.AddrPort{}, fmt.Errorf("saved SYN: %d bytes, short TCP header", len(syn))
	}
	tcp := syn[l4:]
	doff := int(tcp[12]>>4) * 4
	if doff < 20 || len(tcp) < doff {
		return netip.AddrPort{}, fmt.Errorf("saved SYN: TCP data offset %d of %d bytes", doff, len(tcp))
	}
	opts := tcp[20:doff]
	for i := 0; i < len(opts); {
		switch opts[i] {
		case tcpOptEOL:
			return netip.AddrPort{}, errNoTOA
		case tcpOptNOP:
			i++
			continue
		}
		if i+1 >= len(opts) || opts[i+1] < 2 || i+int(opts[i+1]) > len(opts) {
			return netip.AddrPort{}, fmt.Errorf("saved SYN: malformed TCP option %d", opts[i])
		}
		kind, olen := opts[i], int(opts[i+1])
		if kind == tcpOptTOA && (olen == toaLenIPv4 || olen == toaLenIPv6) {
			port := binary.BigEndian.Uint16(opts[i+2:])
			addr, _ := netip.AddrFromSlice(opts[i+4 : i+olen])
			return netip.AddrPortFrom(addr, port), nil
		}
		i += olen
	}
	return netip.AddrPort{}, errNoTOA
}

type toaKey struct{}

// withTOA is an http.Server.ConnContext: it reads the client address the balancer carried in
// the connection's SYN, if any, for the handlers (toaFrom).
func withTOA(ctx context.Context, c net.Conn) context.Context {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return ctx
	}
	syn, err := savedSYN(sc)
	if err != nil {
		return ctx
	}
	if ap, err := parseTOA(syn); err == nil {
		return context.WithValue(ctx, toaKey{}, ap)
	}
	return ctx
}

// toaFrom is the carried client address of the request's connection ("" without one).
func toaFrom(ctx context.Context) string {
	if ap, ok := ctx.Value(toaKey{}).(netip.AddrPort); ok {
		return ap.String()
	}
	return ""
}
