package health

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// tcpChecker succeeds when a TCP connection is established.
type tcpChecker struct {
	addr   netip.AddrPort
	source netip.Addr
}

func (c *tcpChecker) Check(ctx context.Context) Result {
	start := time.Now()
	conn, err := dialer(c.source, "tcp").DialContext(ctx, "tcp", c.addr.String())
	rtt := time.Since(start)
	if err != nil {
		return failed(rtt, fmt.Errorf("tcp connect %s: %w", c.addr, err), "connect failed")
	}
	conn.Close()
	return succeeded(rtt, "connected")
}
