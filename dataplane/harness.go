package dataplane

/*
#include <stdlib.h>
#include <string.h>
#include "dataplane.h"
#include "flow.h"
#include "lcore.h"
#include "process.h"

static struct tenbin_worker *tb_worker_new(void)
{
	void *p = NULL;

	if (posix_memalign(&p, TENBIN_CACHE_LINE, sizeof(struct tenbin_worker)) != 0)
		return NULL;
	memset(p, 0, sizeof(struct tenbin_worker));
	return p;
}

// One call per frame: the harness runs a burst of one through tenbin_burst, as the lcore
// loop would, express lane included; or, with general set, through tenbin_process, the
// general path alone, which the express lane must agree with.
static void tb_run(struct tenbin_worker *w, struct tenbin_pkt *p, uint64_t now_ms, int general)
{
	tenbin_worker_begin(w, now_ms);
	if (general)
		tenbin_process(w, p);
	else
		tenbin_burst(w, p, 1);
}

// The frame in buf through the lcore loop's mbuf adapter (tenbin_mbuf_burst), in an mbuf
// in plain memory as a PMD hands it over. Returns 1 when it was queued for transmission
// (its port in *out_port), 0 when dropped; the mbuf's fields after the burst go to m.
static int tb_mbuf_run(struct tenbin_worker *w, struct rte_mbuf *m, uint8_t *buf, uint16_t cap, uint16_t off,
		       uint16_t len, uint8_t in_port, uint64_t now_ms, uint8_t *out_port)
{
	struct tenbin_tx_buffers *tx = calloc(1, sizeof(*tx));
	struct rte_mbuf *ms[1] = { m }, *drop[1];
	uint16_t nd = 0, port;
	int sent = 0;

	if (tx == NULL)
		return -1;
	memset(m, 0, sizeof(*m));
	m->buf_addr = buf;
	m->buf_len = cap;
	m->data_off = off;
	m->data_len = len;
	m->pkt_len = len;
	m->nb_segs = 1;
	m->port = in_port;
	tenbin_worker_begin(w, now_ms);
	tenbin_mbuf_burst(w, ms, 1, tx, drop, &nd);
	for (port = 0; port < TENBIN_MAX_PORTS; port++)
		if (tx->n[port] == 1 && tx->pkts[port][0] == m) {
			*out_port = (uint8_t)port;
			sent = 1;
		}
	free(tx);
	return sent;
}

static void tb_set_icmp_tokens(struct tenbin_worker *w, uint32_t n) { w->icmp_tokens = n; w->icmp_refill_ms = ~0ull; }

static uint32_t tb_sweep(struct tenbin_worker *w, uint64_t now_ms, uint32_t buckets)
{
	tenbin_worker_begin(w, now_ms);
	return tenbin_flow_sweep(w, buckets);
}

static uint16_t tb_neigh_request(struct tenbin_worker *w, uint64_t now_ms, uint8_t *buf, uint16_t cap, uint8_t *port)
{
	tenbin_worker_begin(w, now_ms);
	return tenbin_neigh_request(w, buf, cap, port);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"

	"tenbin/control/shm"
)

// Verdict is what became of a packet.
type Verdict int

// Verdicts (enum tenbin_verdict).
const (
	VerdictDrop   Verdict = C.TENBIN_V_DROP
	VerdictTX     Verdict = C.TENBIN_V_TX
	VerdictKernel Verdict = C.TENBIN_V_KERNEL
)

func (v Verdict) String() string {
	switch v {
	case VerdictDrop:
		return "drop"
	case VerdictTX:
		return "tx"
	case VerdictKernel:
		return "kernel"
	}
	return fmt.Sprintf("verdict(%d)", int(v))
}

// Result is what the fast path made of one frame.
type Result struct {
	Out     []byte // the frame as it leaves (TX) or as it goes to the kernel, nil otherwise
	OutPort int
	Verdict Verdict
	Drop    string // drop reason name when Verdict is VerdictDrop
}

// Buffer geometry of the harness, like an mbuf's: headroom, then room for a full frame.
const (
	HarnessHeadroom = 128
	harnessBufSize  = 2048 + HarnessHeadroom
)

// ErrHarness is returned when a harness cannot bind to a region slot.
var ErrHarness = errors.New("dataplane harness")

// Harness runs the C per-packet path in-process on byte slices, without EAL or a port:
// the packet-fixture tests, the fuzzer and the Go benchmarks drive it. It acts as lcore
// slot `slot` of the region: it reads the active config set and writes that slot's
// counters and flow table. Not safe for concurrent use.
type Harness struct {
	w   *C.struct_tenbin_worker
	buf *C.uint8_t
	pkt C.struct_tenbin_pkt
}

// NewHarness binds a harness to lcore slot `slot` of region.
func NewHarness(region *shm.Region, slot int) (*Harness, error) {
	w := C.tb_worker_new()
	if w == nil {
		return nil, fmt.Errorf("%w: out of memory", ErrHarness)
	}
	if rc := C.tenbin_worker_init(w, region.Base(), C.uint32_t(slot)); rc != 0 {
		C.free(unsafe.Pointer(w))
		return nil, fmt.Errorf("%w: slot %d: init failed (%d)", ErrHarness, slot, int(rc))
	}
	return &Harness{w: w, buf: (*C.uint8_t)(C.malloc(harnessBufSize))}, nil
}

// Reset forgets the harness's private state (VIP memo, cursors, rate limits), as a
// restarted lcore would, so a test can reuse a region from a clean start.
func (h *Harness) Reset(region *shm.Region, slot int) error {
	if rc := C.tenbin_worker_init(h.w, region.Base(), C.uint32_t(slot)); rc != 0 {
		return fmt.Errorf("%w: slot %d: init failed (%d)", ErrHarness, slot, int(rc))
	}
	return nil
}

// Close frees the harness's C memory.
func (h *Harness) Close() {
	C.free(unsafe.Pointer(h.w))
	C.free(unsafe.Pointer(h.buf))
	h.w, h.buf = nil, nil
}

// run copies frame into the C buffer and processes it as a burst of one at nowMs.
func (h *Harness) run(frame []byte, inPort int, nowMs uint64, general bool) {
	n := min(len(frame), harnessBufSize-HarnessHeadroom)
	buf := unsafe.Slice((*byte)(unsafe.Pointer(h.buf)), harnessBufSize)
	copy(buf[HarnessHeadroom:], frame[:n])
	h.pkt = C.struct_tenbin_pkt{
		buf:     h.buf,
		off:     HarnessHeadroom,
		len:     C.uint16_t(n),
		cap:     harnessBufSize,
		in_port: C.uint8_t(inPort),
	}
	g := C.int(0)
	if general {
		g = 1
	}
	C.tb_run(h.w, &h.pkt, C.uint64_t(nowMs), g)
}

// Process runs one frame received on inPort at time nowMs (CLOCK_MONOTONIC ms, the
// region's clock) and returns a copy of what leaves.
func (h *Harness) Process(frame []byte, inPort int, nowMs uint64) Result {
	h.run(frame, inPort, nowMs, false)
	return h.result()
}

// ProcessGeneral is Process through the general path alone (tenbin_process), never the
// express lane: what the express lane's results are checked against.
func (h *Harness) ProcessGeneral(frame []byte, inPort int, nowMs uint64) Result {
	h.run(frame, inPort, nowMs, true)
	return h.result()
}

// result is what the last run left in the harness's packet.
func (h *Harness) result() Result {
	r := Result{Verdict: Verdict(h.pkt.verdict), OutPort: int(h.pkt.out_port)}
	switch r.Verdict {
	case VerdictTX, VerdictKernel:
		buf := unsafe.Slice((*byte)(unsafe.Pointer(h.buf)), harnessBufSize)
		r.Out = append([]byte(nil), buf[h.pkt.off:int(h.pkt.off)+int(h.pkt.len)]...)
	case VerdictDrop:
		r.Drop = DropName(int(h.pkt.drop_reason))
	}
	return r
}

// MbufResult is what the mbuf says after the lcore loop's adapter sent a frame.
type MbufResult struct {
	Sent    bool
	OutPort int
	Out     []byte // the bytes from the mbuf's data_off, data_len long
	PktLen  int    // the mbuf's pkt_len
}

// ProcessMbuf runs frame through tenbin_mbuf_burst, the adapter the lcore loop wraps around
// tenbin_burst, in an mbuf as a PMD hands it over: what it reports is what the mbuf carries
// to the port afterwards, so a frame whose size changed must show its new offset and length.
func (h *Harness) ProcessMbuf(frame []byte, inPort int, nowMs uint64) (MbufResult, error) {
	n := min(len(frame), harnessBufSize-HarnessHeadroom)
	buf := unsafe.Slice((*byte)(unsafe.Pointer(h.buf)), harnessBufSize)
	copy(buf[HarnessHeadroom:], frame[:n])
	m := (*C.struct_rte_mbuf)(C.calloc(1, C.sizeof_struct_rte_mbuf))
	defer C.free(unsafe.Pointer(m))
	var port C.uint8_t
	switch C.tb_mbuf_run(h.w, m, h.buf, harnessBufSize, HarnessHeadroom, C.uint16_t(n), C.uint8_t(inPort), C.uint64_t(nowMs), &port) {
	case -1:
		return MbufResult{}, fmt.Errorf("%w: out of memory", ErrHarness)
	case 0:
		return MbufResult{}, nil
	}
	off, dlen := int(m.data_off), int(m.data_len)
	return MbufResult{Sent: true, OutPort: int(port), Out: append([]byte(nil), buf[off:off+dlen]...), PktLen: int(m.pkt_len)}, nil
}

// Run is Process without the copy out, for benchmarks: it only reports the verdict.
func (h *Harness) Run(frame []byte, inPort int, nowMs uint64) Verdict {
	h.run(frame, inPort, nowMs, false)
	return Verdict(h.pkt.verdict)
}

// ExpressSent is how many frames the express lane (burst.c) has sent so far.
func (h *Harness) ExpressSent() uint64 { return uint64(h.w.express_pkts) }

// HalfOpen is the number of half-open flows of service svc in this slot's table, as the
// SYN guard counts them (flow.h's TENBIN_FF_HALF_OPEN entries).
func (h *Harness) HalfOpen(svc int) uint32 { return uint32(h.w.half_open[svc]) }

// SetICMPTokens sets how many ICMP time-exceeded messages the slot may still send and
// stops the refill, so tests can exhaust the rate limit.
func (h *Harness) SetICMPTokens(n uint32) { C.tb_set_icmp_tokens(h.w, C.uint32_t(n)) }

// Sweep runs the incremental flow sweeper over `buckets` buckets at nowMs and returns
// how many expired entries it freed.
func (h *Harness) Sweep(nowMs uint64, buckets int) int {
	return int(C.tb_sweep(h.w, C.uint64_t(nowMs), C.uint32_t(buckets)))
}

// NeighRequest is an ARP request or neighbour solicitation the dataplane wants sent.
type NeighRequest struct {
	Frame []byte
	Port  int
}

// NeighRequests runs slot 0's neighbour resolution at nowMs and returns the frames it
// wrote (none when no round is due or every next hop is fresh).
func (h *Harness) NeighRequests(nowMs uint64) []NeighRequest {
	var out []NeighRequest
	buf := unsafe.Slice((*byte)(unsafe.Pointer(h.buf)), harnessBufSize)
	for {
		var port C.uint8_t
		n := C.tb_neigh_request(h.w, C.uint64_t(nowMs), h.buf, harnessBufSize, &port)
		if n == 0 {
			return out
		}
		out = append(out, NeighRequest{Frame: append([]byte(nil), buf[:n]...), Port: int(port)})
	}
}

// DropName is the name of drop reason r (enum tenbin_drop), as the C side spells it.
func DropName(r int) string {
	if r < 0 || r >= C.TENBIN_DROP_MAX || C.tenbin_drop_names[r] == nil {
		return fmt.Sprintf("drop(%d)", r)
	}
	return C.GoString(C.tenbin_drop_names[r])
}

// DropNames lists the C side's drop reason names in enum order.
func DropNames() []string {
	var out []string
	for r := 0; r < C.TENBIN_DROP_MAX && C.tenbin_drop_names[r] != nil; r++ {
		out = append(out, C.GoString(C.tenbin_drop_names[r]))
	}
	return out
}
