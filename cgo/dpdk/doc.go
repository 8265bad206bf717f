// Package dpdk is tenbin's own thin Go binding to DPDK 22.11: EAL start-up
// and clean-up, lcores, packet mbuf pools, ethdev ports and virtual
// devices. It holds no load-balancing logic; the dataplane package builds
// on it.
//
// # Threading rules
//
//   - InitEAL makes the calling OS thread the main lcore and leaves the
//     calling goroutine locked to it. Call InitEAL and CleanupEAL from one
//     long-lived goroutine (main or TestMain). EAL starts only once per
//     process. EAL pins that thread to the main lcore's CPU, and threads
//     the Go runtime starts from it inherit the pin: keep the goroutine
//     mostly idle (waiting on signals) after start-up.
//   - Packet loops are C functions started on worker lcores with
//     LaunchRemote; they never call into Go, and the data path never crosses
//     cgo. LaunchGo (a Go func on a worker, through a C trampoline) is for
//     tests and set-up only. WaitLcore sleeps while it waits instead of
//     spinning. Launch and wait for one lcore from one goroutine at a time.
//   - Port set-up and teardown (Configure, queue set-up, Start, Stop, Close)
//     are not safe to run concurrently on one port, nor while an lcore
//     polls it. Stats, XStats and Link may run at any time.
//   - RxBurst and TxBurst copy packets through Go for tests only.
//   - RingPair joins two net_ring ports back to back, a cable for labs.
//   - Memory handed to C and kept there (LaunchRemote's arg) must be C
//     memory, never Go memory.
//
// # Errors
//
// Failed calls return *Error with the call's name and DPDK's errno; its text
// is rte_strerror's, and errors.Is matches syscall errnos and the Err*
// sentinels.
//
// # Logging
//
// InitEAL lowers DPDK's log to errors unless given --log-level, and sends
// the log (and EAL's printed output during start-up) to the writer set by
// SetLogWriter, os.Stderr by default.
package dpdk
