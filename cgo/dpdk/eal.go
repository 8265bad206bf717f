package dpdk

/*
#include <stdlib.h>

#include <rte_eal.h>
#include <rte_log.h>

#include "shim.h"
*/
import "C"

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// InitEAL initialises DPDK's Environment Abstraction Layer with args
// (argv[0] first, as EALArgs.Args renders them) and returns how many
// arguments after argv[0] EAL consumed, as rte_eal_init does; the
// application's own arguments are args[consumed+1:].
//
// Threading: EAL turns the calling OS thread into the main lcore (its
// lcore id and CPU affinity). InitEAL therefore locks the calling
// goroutine to its OS thread and leaves it locked: call it from a
// goroutine that lives as long as DPDK is used (main, or TestMain), and
// call CleanupEAL from that goroutine.
//
// EAL can be initialised once per process; a second call fails with
// ErrAlready. Unless args carry --log-level, the log is lowered to errors.
// Everything EAL logs or prints during the call goes to the SetLogWriter
// writer, and a failure's error quotes EAL's first complaint.
func InitEAL(args []string) (consumed int, err error) {
	if ealStarted.Load() {
		// Checked before touching the log settings of the running EAL.
		return 0, &Error{Op: "rte_eal_init", Errno: int(syscall.EALREADY)}
	}
	if len(args) == 0 {
		args = []string{"tenbin"}
	}
	runtime.LockOSThread()

	if !hasLogLevel(args) {
		C.rte_log_set_global_level(C.RTE_LOG_ERR)
	}
	if rc := C.tb_log_capture(); rc < 0 {
		runtime.UnlockOSThread()
		return 0, &Error{Op: "rte_openlog_stream", Errno: int(syscall.ENOMEM)}
	}

	// EAL keeps pointers into argv (program name, saved arguments), so
	// the C strings are never freed: one small allocation per process.
	argv := (**C.char)(C.calloc(C.size_t(len(args)+1), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	argvs := unsafe.Slice(argv, len(args)+1)
	for i, a := range args {
		argvs[i] = C.CString(a)
	}

	capture := captureFile()
	fd := C.int(-1)
	if capture != nil {
		defer capture.Close()
		fd = C.int(capture.Fd())
	}
	startLogRecording()
	rc := C.tb_eal_init(C.int(len(args)), argv, fd)
	logged := stopLogRecording()
	var printed []byte
	if capture != nil {
		if _, err := capture.Seek(0, io.SeekStart); err == nil {
			printed, _ = io.ReadAll(capture)
		}
	}
	writeLog(printed)

	if rc < 0 {
		runtime.UnlockOSThread()
		err := codeErr("rte_eal_init", rc)
		if detail := initFailureDetail(logged, string(printed)); detail != "" {
			return 0, fmt.Errorf("%w (%s)", err, detail)
		}
		return 0, err
	}
	ealStarted.Store(true)
	return int(rc), nil
}

// ealStarted is set once InitEAL succeeded.
var ealStarted atomic.Bool

// captureFile returns an unlinked temporary file for EAL's printf output,
// or nil when none can be made (the output then goes where it always does).
func captureFile() *os.File {
	f, err := os.CreateTemp("", "tenbin-eal-*")
	if err != nil {
		return nil
	}
	_ = os.Remove(f.Name())
	return f
}

// CleanupEAL releases EAL's resources (memory, lcore threads, devices not
// closed yet). Stop and close ports first; call it from the goroutine that
// called InitEAL. EAL cannot be initialised again afterwards.
func CleanupEAL() error {
	return codeErr("rte_eal_cleanup", C.tb_eal_cleanup())
}

// RuntimeDir is EAL's runtime directory (under /var/run/dpdk or
// $XDG_RUNTIME_DIR, named by --file-prefix); empty before InitEAL.
func RuntimeDir() string { return C.GoString(C.rte_eal_get_runtime_dir()) }
