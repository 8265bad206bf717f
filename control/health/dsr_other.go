//go:build !linux

package health

import "fmt"

func newDSRChecker(Checker, Spec, Target) (Checker, error) {
	return nil, fmt.Errorf("%w: raw sockets are only used on linux", ErrDSRUnsupported)
}
