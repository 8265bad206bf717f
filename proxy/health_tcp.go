package proxy

import (
	"context"
	"net"
)

// tcpChecker passes when a TCP connection opens.
type tcpChecker struct{}

func (tcpChecker) Check(ctx context.Context, address string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", address)
	if err != nil {
		return err
	}
	return c.Close()
}
