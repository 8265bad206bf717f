//go:build unix

package proxy

import (
	"errors"
	"syscall"
	"time"
)

// recentlyUsed is how long after its last response a pooled connection is trusted without a
// look: backends close idle connections after seconds, not milliseconds, and the look costs
// a system call.
const recentlyUsed = time.Second

// alive reports whether a pooled connection still looks usable: the backend has neither
// closed it nor sent anything unasked (a peek that must find nothing to read). It is
// what http.Transport learns from its per-connection read goroutine.
func (c *backendConn) alive() bool {
	if time.Since(c.idleSince) < recentlyUsed {
		return true
	}
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var buf [1]byte
	var n int
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true
	})
	return err == nil && n <= 0 && errors.Is(rerr, syscall.EAGAIN)
}
