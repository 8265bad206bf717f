package dpdk

/*
#include <rte_ethdev.h>
*/
import "C"

// Stats are a port's basic counters since start or the last ResetStats.
type Stats struct {
	RxPackets uint64
	TxPackets uint64
	RxBytes   uint64
	TxBytes   uint64
	// RxMissed counts packets the device dropped for want of rx
	// descriptors (the lcore polled too slowly).
	RxMissed uint64
	RxErrors uint64
	TxErrors uint64
	// RxNoMbuf counts receive failures for want of mbufs in the pool.
	RxNoMbuf uint64
}

// Stats reads the port's basic counters.
func (p Port) Stats() (Stats, error) {
	var s C.struct_rte_eth_stats
	if rc := C.rte_eth_stats_get(C.uint16_t(p), &s); rc < 0 {
		return Stats{}, codeErr(p.op("rte_eth_stats_get"), rc)
	}
	return Stats{
		RxPackets: uint64(s.ipackets),
		TxPackets: uint64(s.opackets),
		RxBytes:   uint64(s.ibytes),
		TxBytes:   uint64(s.obytes),
		RxMissed:  uint64(s.imissed),
		RxErrors:  uint64(s.ierrors),
		TxErrors:  uint64(s.oerrors),
		RxNoMbuf:  uint64(s.rx_nombuf),
	}, nil
}

// ResetStats zeroes the basic counters.
func (p Port) ResetStats() error {
	return codeErr(p.op("rte_eth_stats_reset"), C.rte_eth_stats_reset(C.uint16_t(p)))
}

// XStats reads the driver's extended counters by name (e.g.
// "rx_good_packets", "rx_q0_packets").
func (p Port) XStats() (map[string]uint64, error) {
	n := C.rte_eth_xstats_get_names(C.uint16_t(p), nil, 0)
	if n < 0 {
		return nil, codeErr(p.op("rte_eth_xstats_get_names"), n)
	}
	// The count can change between calls (queues reconfigured): ask until
	// both calls agree on it.
	for {
		names := make([]C.struct_rte_eth_xstat_name, n)
		values := make([]C.struct_rte_eth_xstat, n)
		var namesPtr *C.struct_rte_eth_xstat_name
		var valuesPtr *C.struct_rte_eth_xstat
		if n > 0 {
			namesPtr, valuesPtr = &names[0], &values[0]
		}
		got := C.rte_eth_xstats_get_names(C.uint16_t(p), namesPtr, C.uint(n))
		if got < 0 {
			return nil, codeErr(p.op("rte_eth_xstats_get_names"), got)
		}
		gotValues := C.rte_eth_xstats_get(C.uint16_t(p), valuesPtr, C.uint(n))
		if gotValues < 0 {
			return nil, codeErr(p.op("rte_eth_xstats_get"), gotValues)
		}
		if got > n || gotValues > n || got != gotValues {
			n = max(got, gotValues)
			continue
		}
		stats := make(map[string]uint64, int(got))
		for _, v := range values[:gotValues] {
			if v.id < C.uint64_t(got) {
				stats[C.GoString(&names[v.id].name[0])] = uint64(v.value)
			}
		}
		return stats, nil
	}
}
