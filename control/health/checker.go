package health

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Checker runs one probe. It returns when the probe has an answer or ctx is
// done; the Monitor gives ctx the Spec's Timeout.
type Checker interface {
	Check(ctx context.Context) Result
}

// Errors a Result can carry.
var (
	ErrUnexpectedStatus = errors.New("unexpected status")
	ErrBodyMismatch     = errors.New("body does not contain the expected text")
	ErrNoReply          = errors.New("no reply")
	ErrUnreachable      = errors.New("port unreachable")
	ErrAgentDown        = errors.New("agent reports down")
	ErrAgentGarbage     = errors.New("agent reply not understood")
	ErrDSRPath          = errors.New("DSR path failed")
	ErrNotDSR           = errors.New("DSR-path check needs an l2dsr or l3dsr target")
	ErrDSRUnsupported   = errors.New("DSR-path check not supported")
)

// New returns the checker spec describes for target.
func New(spec Spec, target Target) (Checker, error) {
	var c Checker
	switch spec.Kind {
	case TCP:
		c = &tcpChecker{addr: checkAddr(spec, target), source: spec.Source}
	case HTTP, HTTPS:
		c = newHTTPChecker(spec, target)
	case UDP:
		c = &udpChecker{addr: checkAddr(spec, target), source: spec.Source, payload: spec.Payload}
	case Agent:
		port := spec.AgentPort
		if port == 0 {
			port = checkAddr(spec, target).Port()
		}
		c = &agentChecker{tcpChecker{addr: netip.AddrPortFrom(target.Addr, port), source: spec.Source}}
	case None:
		c = noneChecker{}
	default:
		return nil, fmt.Errorf("%w %q", ErrUnknownKind, spec.Kind)
	}
	if !spec.DSRPath {
		return c, nil
	}
	if target.Mode != ModeL2DSR && target.Mode != ModeL3DSR {
		return nil, fmt.Errorf("%s: %w, not %q", target.Key(), ErrNotDSR, target.Mode)
	}
	return newDSRChecker(c, spec, target)
}

// checkAddr is where the plain check connects: the backend's address and the
// spec's port, or the backend's own port.
func checkAddr(spec Spec, target Target) netip.AddrPort {
	port := spec.Port
	if port == 0 {
		port = target.Port
	}
	return netip.AddrPortFrom(target.Addr, port)
}

// dialer returns a dialer bound to source (if set) that gives up with ctx.
func dialer(source netip.Addr, network string) *net.Dialer {
	d := &net.Dialer{}
	if !source.IsValid() {
		return d
	}
	switch network {
	case "udp":
		d.LocalAddr = net.UDPAddrFromAddrPort(netip.AddrPortFrom(source, 0))
	default:
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(source, 0))
	}
	return d
}

// deadlineFrom makes conn's reads and writes give up when ctx does; call the
// returned function when done with conn.
func deadlineFrom(ctx context.Context, conn net.Conn) (stop func() bool) {
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	return context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
}
