package dpdk

/*
#include <stdlib.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "shim.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// DefaultMbufDataRoom is DPDK's default mbuf data room: 2 KiB of packet
// plus headroom (RTE_MBUF_DEFAULT_BUF_SIZE).
const DefaultMbufDataRoom = uint16(C.RTE_MBUF_DEFAULT_BUF_SIZE)

// Mempool is a DPDK memory pool, here always one of packet mbufs.
type Mempool struct {
	p      *C.struct_rte_mempool
	packed bool
}

// PoolLayout chooses where a pool's mbufs lie in memory.
type PoolLayout int

const (
	// PackedWhereSafe lays the mbufs end to end where DPDK would put each alone on a
	// 4 KiB page: without hugepages, with IOVA as VA (see Mempool.Packed). Elsewhere,
	// and for mempool ops other than ring and stack, it is DPDK's layout.
	PackedWhereSafe PoolLayout = iota
	// PageBound is DPDK's layout everywhere: without hugepages no mbuf crosses a 4 KiB
	// page. AF_XDP zero-copy needs that there: the pool is its UMEM, and the kernel
	// refuses a frame that crosses into a page not physically next to it.
	PageBound
)

// NewPktMbufPool creates a pool of n packet mbufs with dataRoomSize bytes
// each (headroom included; DefaultMbufDataRoom fits a 1500-byte frame),
// cacheSize mbufs cached per lcore, on socket (SocketAny for any), laid out
// as layout says. name must be unique in the process. n = 2^k - 1 uses
// memory best.
func NewPktMbufPool(name string, n, cacheSize uint32, dataRoomSize uint16, socket int, layout PoolLayout) (*Mempool, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var errno, packed C.int
	allow := C.int(0)
	if layout == PackedWhereSafe {
		allow = 1
	}
	p := C.tb_pktmbuf_pool_create(cname, C.uint(n), C.uint(cacheSize), C.uint16_t(dataRoomSize), C.int(socket), allow, &errno, &packed)
	if p == nil {
		return nil, &Error{Op: fmt.Sprintf("rte_pktmbuf_pool_create %q", name), Errno: int(errno)}
	}
	return &Mempool{p: p, packed: packed != 0}, nil
}

// Packed tells whether the pool's mbufs lie end to end across 4 KiB pages.
// Without hugepages (IOVA as VA) they do: DPDK's own layout there puts each
// mbuf alone at the start of a page, so all mbuf headers, and all frames'
// first lines, compete for one L1 cache set. On hugepages DPDK's layout is
// already packed and is kept (Packed is false).
func (m *Mempool) Packed() bool { return m.packed }

// Free returns the pool's memory. Every mbuf must be back in the pool and
// no port may still use it (stop the ports first). Calling it twice is
// harmless.
func (m *Mempool) Free() {
	if m.p != nil {
		C.rte_mempool_free(m.p)
		m.p = nil
	}
}

// mbufBuffers lists every mbuf's buffer: its virtual address and its IOVA
// (what a NIC would DMA to).
func (m *Mempool) mbufBuffers() (addr []uintptr, iova []uint64) {
	n := m.Size()
	addr, iova = make([]uintptr, n), make([]uint64, n)
	if n > 0 {
		got := C.tb_mempool_mbufs(m.p, (*C.uintptr_t)(unsafe.Pointer(&addr[0])), (*C.uint64_t)(unsafe.Pointer(&iova[0])), C.uint(n))
		n = min(uint32(got), n)
	}
	return addr[:n], iova[:n]
}

// Ptr is the struct rte_mempool * for C code (the dataplane's loops).
func (m *Mempool) Ptr() unsafe.Pointer { return unsafe.Pointer(m.p) }

// Name is the name the pool was created with.
func (m *Mempool) Name() string { return C.GoString(&m.p.name[0]) }

// Size is the number of mbufs the pool holds in total.
func (m *Mempool) Size() uint32 { return uint32(m.p.size) }

// Avail counts the mbufs free in the pool, per-lcore caches included.
func (m *Mempool) Avail() uint32 { return uint32(C.rte_mempool_avail_count(m.p)) }

// InUse counts the mbufs taken from the pool and not yet returned.
func (m *Mempool) InUse() uint32 { return uint32(C.rte_mempool_in_use_count(m.p)) }
