package dpdk

/*
#include <rte_errno.h>
*/
import "C"

import (
	"fmt"
	"syscall"
)

// Error is a failed DPDK call: Op names the call (and its subject), Errno
// is the positive errno DPDK gave, either as a negative return code or in
// rte_errno.
//
// errors.Is(err, syscall.ENODEV) and the sentinels below match on Errno.
type Error struct {
	Op    string
	Errno int
}

// Sentinels for the errnos DPDK calls commonly return, for errors.Is.
var (
	ErrNoDevice     error = syscall.ENODEV
	ErrInvalid      error = syscall.EINVAL
	ErrNoMemory     error = syscall.ENOMEM
	ErrExists       error = syscall.EEXIST
	ErrBusy         error = syscall.EBUSY
	ErrNotSupported error = syscall.ENOTSUP
	ErrAlready      error = syscall.EALREADY
	// ErrNoConfig is DPDK's own E_RTE_NO_CONFIG (above the system errnos).
	ErrNoConfig error = syscall.Errno(C.E_RTE_NO_CONFIG)
	// ErrSecondary is DPDK's own E_RTE_SECONDARY.
	ErrSecondary error = syscall.Errno(C.E_RTE_SECONDARY)
)

// Error reads like "rte_eth_dev_get_port_by_name net_x0: No such device",
// the text being DPDK's rte_strerror.
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Op, strerror(e.Errno))
}

// strerror is DPDK's text for an errno, its own errnos included.
func strerror(errno int) string { return C.GoString(C.rte_strerror(C.int(errno))) }

// Unwrap exposes the errno as a syscall.Errno, so errors.Is and errors.As
// work with the standard errno values.
func (e *Error) Unwrap() error { return syscall.Errno(e.Errno) }

// ErrorFromCode turns DPDK's return convention (negative errno on failure)
// into an *Error; rc >= 0 gives nil. C code of other packages that returns
// -errno can use it too.
func ErrorFromCode(op string, rc int) error {
	if rc >= 0 {
		return nil
	}
	return &Error{Op: op, Errno: -rc}
}

// codeErr is ErrorFromCode for a C int.
func codeErr(op string, rc C.int) error { return ErrorFromCode(op, int(rc)) }
