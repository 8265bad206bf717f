package dpdk

// The flags below apply to every cgo file and every .c file of the package.
// libdpdk's pkg-config names no drivers for shared linking; RingPair calls
// the net_ring driver's rte_eth_from_rings, so that one is linked by name.

// #cgo pkg-config: libdpdk
// #cgo LDFLAGS: -lrte_net_ring
// #cgo CFLAGS: -O2 -Wall -Wextra -Werror
import "C"
