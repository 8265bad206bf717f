package health

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"syscall"
	"time"
)

// udpChecker sends the payload on a connected socket, so an ICMP port
// unreachable comes back as ECONNREFUSED. With a payload, any reply within
// the timeout is success; without one, silence is success (the most a
// connectionless service without a probe protocol can tell).
type udpChecker struct {
	addr    netip.AddrPort
	source  netip.Addr
	payload []byte
}

func (c *udpChecker) Check(ctx context.Context) Result {
	start := time.Now()
	conn, err := dialer(c.source, "udp").DialContext(ctx, "udp", c.addr.String())
	if err != nil {
		return failed(0, fmt.Errorf("udp %s: %w", c.addr, err), "cannot open socket")
	}
	defer conn.Close()
	defer deadlineFrom(ctx, conn)()
	if _, err := conn.Write(c.payload); err != nil {
		return c.readError(time.Since(start), err)
	}
	buf := make([]byte, 1500)
	_, err = conn.Read(buf)
	rtt := time.Since(start)
	if err == nil {
		return succeeded(rtt, "reply received")
	}
	if len(c.payload) == 0 && errors.Is(err, os.ErrDeadlineExceeded) {
		return succeeded(rtt, "no ICMP unreachable within the timeout")
	}
	return c.readError(rtt, err)
}

func (c *udpChecker) readError(rtt time.Duration, err error) Result {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return failed(rtt, fmt.Errorf("udp %s: %w", c.addr, ErrUnreachable), "ICMP port unreachable")
	case errors.Is(err, os.ErrDeadlineExceeded):
		return failed(rtt, fmt.Errorf("udp %s: %w", c.addr, ErrNoReply), "no reply within the timeout")
	}
	return failed(rtt, fmt.Errorf("udp %s: %w", c.addr, err), "socket error")
}
