// Package dataplane is tenbin's per-packet fast path: C code that the poll-mode lcores run,
// and the Go glue that launches it and tests it.
//
// # The C side
//
// tenbin_process (process.c) takes one frame as a byte view (struct tenbin_pkt) and decides
// its fate against the active config set of the shared region: parse (parse.c), ARP/NDP
// duties (neigh.c), VIP lookup (vip.h), flow table (flow.h, flow.c), backend selection
// (select.h), the l2dsr/l3dsr rewrite (forward.c) and ICMP (icmp.c). It never allocates,
// locks, logs or crosses cgo. The lcore loop (lcore.c) is a thin mbuf adapter around it.
// README.md in this directory describes the rules (fragments, ICMP errors, counters).
//
// # Running the loop (cmd/tenbin-dataplane)
//
// After EAL init and port setup, build one conf per lcore slot and launch the C entry
// point on the worker lcores:
//
//	conf, err := dataplane.NewLcoreConf(region, slot, []dataplane.RxQueue{{Port: 0, Queue: 0}},
//		map[uint16]uint16{0: 0, 1: 0}, mempool) // tx queue per port; mempool: *rte_mempool
//	dpdk.LaunchRemote(lcore, dataplane.LcoreMain(), conf.Arg())
//	...
//	conf.Stop()   // the loop returns within one poll (at most ~100 µs of idle sleep)
//	// wait for the lcore, then
//	conf.Err(); conf.Free()
//
// Slot 0 also sends the ARP requests and neighbour solicitations that resolve next hops,
// from its conf's mempool. Each lcore publishes the config generation it has seen and a
// heartbeat in its lcore state once per poll.
//
// # Testing without a port
//
// Harness runs tenbin_process in-process on byte slices, with no EAL: NewHarness(region,
// slot), then h.Process(frame, inPort, nowMs) returns the frame that leaves (or the drop
// reason). The package's tests are tables of packet fixtures built with gopacket
// (fixture_test.go); bench/fastpath measures the C path in bursts.
package dataplane
