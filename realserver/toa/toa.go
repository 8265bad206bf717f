// Package toa reads the client address a full-NAT balancer carries in a TCP option (TOA,
// kind 254, as DPVS and tenbin's fnat send it: the port and the IPv4 or IPv6 address) on
// the SYN. Real servers usually read it with a kernel module; this package reads it from the
// SYN the kernel saved for the connection (TCP_SAVE_SYN on the listener, TCP_SAVED_SYN on the
// accepted socket), so a user-space server needs no module. The lab server and the L7 proxy
// tier use it.
package toa

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	tcpOptTOA   = 254
	tcpOptEOL   = 0
	tcpOptNOP   = 1
	toaLenIPv4  = 8
	toaLenIPv6  = 20
	maxSavedSYN = 60 + 60 + 40 // largest IPv4 header + TCP header (IPv6: 40 + 60)
)

// ErrNoTOA: the SYN carried no TOA option (no balancer in between, or one that sends none).
var ErrNoTOA = errors.New("no TOA option")

// SaveSYN is a net.ListenConfig.Control that makes the kernel keep each connection's SYN
// headers for the accepting side.
func SaveSYN(network, address string, c syscall.RawConn) error {
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

// SavedSYN returns the IP and TCP headers of the SYN that opened conn. The kernel hands them
// out once per connection.
func SavedSYN(conn syscall.Conn) ([]byte, error) {
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

// Parse finds the TOA option in a SYN's IP and TCP headers.
func Parse(syn []byte) (netip.AddrPort, error) {
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
			return netip.AddrPort{}, ErrNoTOA
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
	return netip.AddrPort{}, ErrNoTOA
}

// FromConn is the client address carried in the SYN of an accepted connection whose
// listener had SaveSYN. ErrNoTOA when the SYN had none; another error when the SYN cannot
// be had (not a TCP socket, a listener without SaveSYN, or read once already).
func FromConn(c net.Conn) (netip.AddrPort, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("%T is no socket", c)
	}
	syn, err := SavedSYN(sc)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return Parse(syn)
}
