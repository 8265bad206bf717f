package dpdk

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"syscall"
	"unsafe"
)

// RxBurst receives up to limit packets from rx queue q and returns copies of
// their bytes, giving the mbufs back to their pool.
//
// For tests and tools only: it copies every packet and crosses cgo per
// packet. The dataplane's C loops call rte_eth_rx_burst themselves, and no
// packet of the data path ever comes through Go.
func (p Port) RxBurst(q uint16, limit int) ([][]byte, error) {
	if limit <= 0 || limit > 1<<15 {
		return nil, &Error{Op: fmt.Sprintf("rx burst of %d", limit), Errno: int(syscall.EINVAL)}
	}
	mbufs := make([]*C.struct_rte_mbuf, limit)
	n := int(C.tb_rx_burst(C.uint16_t(p), C.uint16_t(q), &mbufs[0], C.uint16_t(limit)))
	frames := make([][]byte, n)
	var failed error
	for i, m := range mbufs[:n] {
		buf := make([]byte, int(C.tb_mbuf_pkt_len(m)))
		if len(buf) > 0 && C.tb_mbuf_copy_out(m, unsafe.Pointer(&buf[0]), C.uint32_t(len(buf))) < 0 && failed == nil {
			failed = &Error{Op: p.op("rte_pktmbuf_read"), Errno: int(syscall.EINVAL)}
		}
		frames[i] = buf
		C.tb_mbuf_free(m)
	}
	return frames, failed
}

// TxBurst copies frames into mbufs from mp and sends them on tx queue q.
// It returns how many the port took; the rest are freed, not retried.
//
// For tests and tools only, like RxBurst.
func (p Port) TxBurst(q uint16, mp *Mempool, frames [][]byte) (int, error) {
	mbufs := make([]*C.struct_rte_mbuf, 0, len(frames))
	defer func() {
		for _, m := range mbufs {
			C.tb_mbuf_free(m)
		}
	}()
	for _, f := range frames {
		var data unsafe.Pointer
		if len(f) > 0 {
			data = unsafe.Pointer(&f[0])
		}
		m := C.tb_mbuf_from_bytes(mp.p, data, C.uint32_t(len(f)))
		if m == nil {
			return 0, &Error{Op: fmt.Sprintf("mbuf for a %d-byte frame from %s", len(f), mp.Name()), Errno: int(syscall.ENOMEM)}
		}
		mbufs = append(mbufs, m)
	}
	sent := 0
	for sent < len(mbufs) {
		n := int(C.tb_tx_burst(C.uint16_t(p), C.uint16_t(q), &mbufs[sent], C.uint16_t(min(len(mbufs)-sent, 1<<15))))
		if n == 0 {
			break
		}
		sent += n
	}
	mbufs = mbufs[sent:]
	return sent, nil
}
