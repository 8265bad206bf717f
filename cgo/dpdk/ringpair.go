package dpdk

/*
#include <stdlib.h>

#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// RingPair is two net_ring ports joined back to back by two rte_rings:
// what A sends, B receives, and the other way round. It stands in for a
// cable between two NICs in labs and tests. (--vdev net_ring devargs
// cannot do this within one process: a net_ring port made from devargs
// receives what it sends itself.)
type RingPair struct {
	A, B    Port
	created [2]string // device names of the ports made so far, A first
	rxRing  [2]string // ring each port receives from
}

// NewRingPair creates two ports, named "net_ring_"+nameA and
// "net_ring_"+nameB by the driver, joined by rings of size slots (a power
// of two) on socket. Configure and start both ports as any others; Close
// removes them.
func NewRingPair(nameA, nameB string, size uint32, socket int) (*RingPair, error) {
	r := &RingPair{rxRing: [2]string{"tb_" + nameA + "_rx", "tb_" + nameB + "_rx"}}
	for _, ring := range r.rxRing {
		cring := C.CString(ring)
		rc := C.tb_ring_create(cring, C.uint(size), socketOrAny(socket))
		C.free(unsafe.Pointer(cring))
		if rc < 0 {
			_ = r.Close()
			return nil, codeErr(fmt.Sprintf("rte_ring_create %q", ring), rc)
		}
	}
	ports := [2]*Port{&r.A, &r.B}
	for i, name := range [2]string{nameA, nameB} {
		cname := C.CString(name)
		crx, ctx := C.CString(r.rxRing[i]), C.CString(r.rxRing[1-i])
		rc := C.tb_ring_port(cname, crx, ctx, C.uint(socketOrAny(socket)))
		C.free(unsafe.Pointer(cname))
		C.free(unsafe.Pointer(crx))
		C.free(unsafe.Pointer(ctx))
		if rc < 0 {
			_ = r.Close()
			return nil, codeErr(fmt.Sprintf("rte_eth_from_rings %q", name), rc)
		}
		*ports[i] = Port(rc)
		devName, err := ports[i].Name()
		if err != nil {
			_ = r.Close()
			return nil, err
		}
		r.created[i] = devName
	}
	return r, nil
}

// Close stops and removes both ports, then frees the rings and any
// packets left in them. Nothing may poll the ports any more.
func (r *RingPair) Close() error {
	var errs []error
	for i, p := range [2]Port{r.A, r.B} {
		if r.created[i] == "" {
			continue
		}
		if err := p.Stop(); err != nil {
			errs = append(errs, err)
		}
		if err := VdevUninit(r.created[i]); err != nil {
			errs = append(errs, err)
		}
		r.created[i] = ""
	}
	for _, ring := range r.rxRing {
		cring := C.CString(ring)
		C.tb_ring_free_by_name(cring)
		C.free(unsafe.Pointer(cring))
	}
	return errors.Join(errs...)
}
