//go:build linux

package health

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// dsrChecker runs the plain check and then sends a TCP SYN the way the
// dataplane forwards data: to the real server's IP with the service's DSCP
// (l3dsr), or to the VIP in a frame addressed to the real server's MAC
// (l2dsr). A real server that is set up right answers from the VIP, straight
// back to us; our kernel has no socket for that answer and resets it, which
// also tidies up the server's half-open connection.
//
// IPv4 and IPv6 alike. The l3dsr SYN leaves on a raw socket (IPv4: the whole
// packet, with the DSCP in the TOS byte; IPv6: the TCP segment, with the DSCP
// in IPV6_TCLASS), the l2dsr one as a whole frame on an AF_PACKET socket, and
// the answer is read from a raw IPPROTO_TCP socket, which sees a copy of
// every TCP packet the host receives. All need CAP_NET_RAW.
//
// The path is looked up before each probe (dsr_route.go): the source address
// and, for l2dsr, the interface of the route to the backend and the backend's
// MAC (configured, or from the neighbour table).
type dsrChecker struct {
	plain  Checker
	target Target
	source netip.Addr
	port   uint16 // VIP port; DSR never rewrites ports
}

// dsrReplyTimeout bounds the wait for the SYN-ACK when ctx has no deadline.
const dsrReplyTimeout = time.Second

func newDSRChecker(plain Checker, spec Spec, t Target) (Checker, error) {
	v6 := t.Addr.Is6() && !t.Addr.Is4In6()
	if t.VIP.Is6() != v6 || (spec.Source.IsValid() && spec.Source.Is6() != v6) {
		return nil, fmt.Errorf("%s: %w: VIP %s, backend %s and source %s must be of one family",
			t.Key(), ErrInvalidSpec, t.VIP, t.Addr, spec.Source)
	}
	switch t.Mode {
	case ModeL3DSR:
		if t.DSCP > 63 {
			return nil, fmt.Errorf("%s: %w: DSCP %d is over 63", t.Key(), ErrInvalidSpec, t.DSCP)
		}
	case ModeL2DSR:
		if len(t.MAC) != 0 && len(t.MAC) != 6 {
			return nil, fmt.Errorf("%s: %w: MAC %s is not an Ethernet address", t.Key(), ErrInvalidSpec, t.MAC)
		}
	}
	port := t.VIPPort
	if port == 0 {
		port = t.Port
	}
	return &dsrChecker{plain: plain, target: t, source: spec.Source, port: port}, nil
}

func (c *dsrChecker) Check(ctx context.Context) Result {
	res := c.plain.Check(ctx)
	if !res.Up {
		res.Detail = "plain check failed: " + res.Detail
		return res
	}
	start := time.Now()
	if err := c.probe(ctx); err != nil {
		var hint *dsrHint
		detail := err.Error()
		if errors.As(err, &hint) {
			detail = hint.detail
		}
		return failed(res.RTT, fmt.Errorf("%s: %w: %w", c.target.Key(), ErrDSRPath, err),
			"plain check passed, DSR path failed: "+detail)
	}
	res.Detail += fmt.Sprintf("; DSR path ok (SYN-ACK from VIP in %v)", time.Since(start).Round(time.Microsecond))
	return res
}

// dsrHint is a DSR-path failure with what the operator should look at.
type dsrHint struct {
	err    error
	detail string
}

func (h *dsrHint) Error() string { return h.err.Error() }
func (h *dsrHint) Unwrap() error { return h.err }

var (
	errNoSynAck  = errors.New("no SYN-ACK from the VIP")
	errWrongAddr = errors.New("answer came from the real server's own address")
	errRefused   = errors.New("VIP refused the connection")
)

func (c *dsrChecker) probe(ctx context.Context) error {
	rt, err := c.route()
	if err != nil {
		return err
	}
	v6 := rt.src.Is6()
	// Hold the source port for the probe's lifetime so no real
	// connection can be given it; a bound socket that does not listen
	// still makes the kernel answer the SYN-ACK with a reset.
	hold, err := unix.Socket(family(v6), unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("reserve port: %w", err)
	}
	defer unix.Close(hold)
	if err := unix.Bind(hold, sockaddr(rt.src, 0)); err != nil {
		return fmt.Errorf("reserve port on %s: %w", rt.src, err)
	}
	sa, err := unix.Getsockname(hold)
	if err != nil {
		return fmt.Errorf("reserve port: %w", err)
	}
	sport := uint16(sockaddrPort(sa))

	rx, err := unix.Socket(family(v6), unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return fmt.Errorf("raw tcp socket: %w", err)
	}
	defer unix.Close(rx)

	seq := rand.Uint32()
	if err := c.sendSyn(rt, sport, seq); err != nil {
		return err
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(dsrReplyTimeout)
	}
	return c.awaitSynAck(rx, rt, sport, seq, deadline)
}

func (c *dsrChecker) noAnswer(rt dsrRoute, wrong netip.Addr) error {
	vip := netip.AddrPortFrom(c.target.VIP, c.port)
	if c.target.Mode == ModeL3DSR {
		if wrong.IsValid() {
			return &dsrHint{errWrongAddr, fmt.Sprintf("answer to DSCP %d came from %s, not from VIP %s — the real server does not map DSCP %d to the VIP: is the DSCP rule installed on the real server?",
				c.target.DSCP, wrong, vip, c.target.DSCP)}
		}
		return &dsrHint{errNoSynAck, fmt.Sprintf("no SYN-ACK from VIP %s via DSCP %d — is the DSCP rule installed on the real server?",
			vip, c.target.DSCP)}
	}
	if wrong.IsValid() {
		return &dsrHint{errWrongAddr, fmt.Sprintf("answer to VIP %s came from %s — does the real server hold the VIP on its loopback?", vip, wrong)}
	}
	sysctls := " (and arp_ignore/rp_filter set)"
	if c.target.VIP.Is6() {
		sysctls = ""
	}
	return &dsrHint{errNoSynAck, fmt.Sprintf("no SYN-ACK from VIP %s sent to MAC %s on %s — is the VIP on the real server's loopback%s?",
		vip, rt.dstMAC, rt.ifc.Name, sysctls)}
}
