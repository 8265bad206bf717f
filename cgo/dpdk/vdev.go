package dpdk

/*
#include <stdlib.h>

#include <rte_dev.h>
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// VdevInit probes a virtual device after InitEAL, e.g.
// VdevInit("net_ring0", "") or VdevInit("net_pcap1", "iface=veth0"); an
// ethdev vdev then has a port (PortByName(name)). It goes through EAL
// hot-plug on the vdev bus, as --vdev name,args would at start-up.
func VdevInit(name, args string) error {
	cbus, cname, cargs := C.CString("vdev"), C.CString(name), C.CString(args)
	defer C.free(unsafe.Pointer(cbus))
	defer C.free(unsafe.Pointer(cname))
	defer C.free(unsafe.Pointer(cargs))
	return codeErr(fmt.Sprintf("vdev init %q", name), C.rte_eal_hotplug_add(cbus, cname, cargs))
}

// VdevUninit removes a virtual device VdevInit or --vdev created; stop and
// close its port first.
func VdevUninit(name string) error {
	cbus, cname := C.CString("vdev"), C.CString(name)
	defer C.free(unsafe.Pointer(cbus))
	defer C.free(unsafe.Pointer(cname))
	return codeErr(fmt.Sprintf("vdev uninit %q", name), C.rte_eal_hotplug_remove(cbus, cname))
}
