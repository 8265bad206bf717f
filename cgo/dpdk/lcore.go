package dpdk

/*
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_memory.h>

#include "shim.h"
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
	"syscall"
	"time"
	"unsafe"
)

// LcoreAny is the lcore id of a thread EAL does not manage (LCORE_ID_ANY).
const LcoreAny = uint(C.LCORE_ID_ANY)

// SocketAny asks DPDK for memory on any NUMA socket (SOCKET_ID_ANY).
const SocketAny = int(C.SOCKET_ID_ANY)

// LcoreCount is the number of lcores EAL runs, the main one included.
func LcoreCount() int { return int(C.rte_lcore_count()) }

// MainLcore is the id of the main lcore (the thread that called InitEAL).
func MainLcore() uint { return uint(C.rte_get_main_lcore()) }

// LcoreID is the lcore id of the calling OS thread, LcoreAny for threads
// EAL does not manage. Only meaningful on a locked goroutine: the main
// one after InitEAL, or code running inside LaunchGo.
func LcoreID() uint { return uint(C.tb_lcore_id()) }

// WorkerLcores lists the enabled lcores other than the main one, in order.
func WorkerLcores() []uint {
	var ids []uint
	for id := C.rte_get_next_lcore(^C.uint(0), 1, 0); id < C.RTE_MAX_LCORE; id = C.rte_get_next_lcore(id, 1, 0) {
		ids = append(ids, uint(id))
	}
	return ids
}

// SocketID is the NUMA socket of an enabled lcore, SocketAny otherwise.
func SocketID(lcore uint) int {
	if lcore >= C.RTE_MAX_LCORE || C.rte_lcore_is_enabled(C.uint(lcore)) == 0 {
		return SocketAny
	}
	return int(C.rte_lcore_to_socket_id(C.uint(lcore)))
}

// checkWorker refuses lcore ids that EAL would index out of bounds or that
// are not workers: rte_eal_remote_launch checks neither.
func checkWorker(op string, lcore uint) error {
	if lcore >= C.RTE_MAX_LCORE || C.rte_lcore_is_enabled(C.uint(lcore)) == 0 || lcore == MainLcore() {
		return &Error{Op: fmt.Sprintf("%s lcore %d", op, lcore), Errno: int(syscall.EINVAL)}
	}
	return nil
}

// LaunchRemote starts the C function cfn, of type int (*)(void *), on a
// worker lcore with arg. This is how packet loops start: they are C and
// never come back into Go. arg is handed to C and kept after the call, so
// it must point to C memory (or be nil), never to Go memory.
//
// It fails with ErrBusy while the lcore still runs its previous function.
// Launch and wait for one lcore from one goroutine at a time.
func LaunchRemote(lcore uint, cfn, arg unsafe.Pointer) error {
	if err := checkWorker("rte_eal_remote_launch", lcore); err != nil {
		return err
	}
	if cfn == nil {
		return &Error{Op: "rte_eal_remote_launch: nil function", Errno: int(syscall.EINVAL)}
	}
	rc := C.rte_eal_remote_launch((*C.lcore_function_t)(cfn), arg, C.uint(lcore))
	return codeErr(fmt.Sprintf("rte_eal_remote_launch lcore %d", lcore), rc)
}

// LaunchGo runs fn on a worker lcore, through a C trampoline that calls
// back into Go. It is for tests and set-up work (fn sees the worker's
// LcoreID), never for per-packet loops. A panic in fn ends the process.
func LaunchGo(lcore uint, fn func() int) error {
	h := cgo.NewHandle(fn)
	if err := LaunchRemote(lcore, C.tb_go_lcore_entry_ptr(), C.tb_handle_arg(C.uintptr_t(h))); err != nil {
		h.Delete()
		return err
	}
	return nil
}

// waitPoll bounds how long WaitLcore sleeps between looks at a running
// lcore. rte_eal_wait_lcore would spin a core for as long as the lcore
// runs; on a small machine that core is the one the lcore needs.
const waitPoll = time.Millisecond

// WaitLcore waits until the lcore's function returns and gives its return
// value; 0 when nothing was launched there. It sleeps while it waits.
func WaitLcore(lcore uint) (int, error) {
	if err := checkWorker("rte_eal_wait_lcore", lcore); err != nil {
		return 0, err
	}
	for pause := 10 * time.Microsecond; C.tb_lcore_is_running(C.uint(lcore)) != 0; pause = min(2*pause, waitPoll) {
		time.Sleep(pause)
	}
	return int(C.rte_eal_wait_lcore(C.uint(lcore))), nil
}

// WaitAll waits for every worker lcore and returns their functions'
// return values by lcore id.
func WaitAll() map[uint]int {
	rets := make(map[uint]int)
	for _, id := range WorkerLcores() {
		rets[id], _ = WaitLcore(id) // ids come from EAL: always valid workers
	}
	return rets
}
