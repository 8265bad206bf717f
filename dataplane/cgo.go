package dataplane

// The flags below apply to every cgo file and every .c file of the package. The fixture
// harness needs no EAL: the per-packet code uses DPDK's inline header helpers only.

// #cgo CFLAGS: -O3 -march=native -Wall -Wextra -Werror -I${SRCDIR}/include
// #cgo pkg-config: libdpdk
import "C"
