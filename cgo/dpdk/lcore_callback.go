package dpdk

/*
#include "shim.h"
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

// tbGoLcoreEntry runs on a worker lcore's thread, called by the C
// trampoline LaunchGo starts there.
//
//export tbGoLcoreEntry
func tbGoLcoreEntry(h C.uintptr_t) C.int {
	handle := cgo.Handle(h)
	fn := handle.Value().(func() int)
	handle.Delete()
	return C.int(fn())
}

// launchEntryForTest exposes the trampoline's C function pointer to tests,
// which cannot use cgo themselves.
func launchEntryForTest() unsafe.Pointer { return C.tb_go_lcore_entry_ptr() }
