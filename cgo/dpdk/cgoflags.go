package dpdk

// The flags below apply to every cgo file and every .c file of the package.

// #cgo pkg-config: libdpdk
// #cgo CFLAGS: -O2 -Wall -Wextra -Werror
import "C"
