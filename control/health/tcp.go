package health

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// tcpChecker succeeds when a TCP connection is established.
type tcpChecker struct {
	addr   netip.AddrPort
	source netip.Addr
}

// connect opens the connection the tcp and agent checks start with.
func (c *tcpChecker) connect(ctx context.Context) (net.Conn, time.Duration, error) {
	start := time.Now()
	conn, err := dialer(c.source, "tcp").DialContext(ctx, "tcp", c.addr.String())
	return conn, time.Since(start), err
}

func (c *tcpChecker) Check(ctx context.Context) Result {
	conn, rtt, err := c.connect(ctx)
	if err != nil {
		return failed(rtt, fmt.Errorf("tcp connect %s: %w", c.addr, err), "connect failed")
	}
	conn.Close()
	return succeeded(rtt, "connected")
}
