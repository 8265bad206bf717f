package main

import (
	"context"
	"net"
	"net/netip"

	"tenbin/realserver/toa"
)

type toaKey struct{}

// withTOA is an http.Server.ConnContext: it reads the client address the balancer carried in
// the connection's SYN, if any, for the handlers (toaFrom).
func withTOA(ctx context.Context, c net.Conn) context.Context {
	if ap, err := toa.FromConn(c); err == nil {
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
