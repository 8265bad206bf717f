package dpdk

/*
#include "shim.h"
*/
import "C"

import (
	"io"
	"os"
	"strings"
	"sync"
)

// dpdkLog routes DPDK's log (rte_log) to a Go writer and, while InitEAL
// runs, records the messages so a failed init can quote the reason.
var dpdkLog = struct {
	mu        sync.Mutex
	w         io.Writer
	recording bool
	recorded  []string
}{w: os.Stderr}

// SetLogWriter sends DPDK's log messages, and whatever EAL prints while
// InitEAL runs, to w; nil discards them. The default is os.Stderr. Messages
// come from any thread, lcores included, one message per Write and never
// two at once; w must not block for long, since the thread that logs waits
// for it.
func SetLogWriter(w io.Writer) {
	if w == nil {
		w = io.Discard
	}
	dpdkLog.mu.Lock()
	dpdkLog.w = w
	dpdkLog.mu.Unlock()
}

//export tbGoLogWrite
func tbGoLogWrite(p *C.char, n C.size_t) {
	msg := C.GoStringN(p, C.int(n))
	dpdkLog.mu.Lock()
	defer dpdkLog.mu.Unlock()
	if dpdkLog.recording {
		dpdkLog.recorded = append(dpdkLog.recorded, msg)
	}
	_, _ = io.WriteString(dpdkLog.w, msg)
}

// writeLog passes text that did not come through rte_log (EAL's printf
// output during init) to the same writer.
func writeLog(b []byte) {
	if len(b) == 0 {
		return
	}
	dpdkLog.mu.Lock()
	defer dpdkLog.mu.Unlock()
	_, _ = dpdkLog.w.Write(b)
}

func startLogRecording() {
	dpdkLog.mu.Lock()
	dpdkLog.recording, dpdkLog.recorded = true, nil
	dpdkLog.mu.Unlock()
}

func stopLogRecording() []string {
	dpdkLog.mu.Lock()
	defer dpdkLog.mu.Unlock()
	rec := dpdkLog.recorded
	dpdkLog.recording, dpdkLog.recorded = false, nil
	return rec
}

// initFailureDetail picks the line that best says why rte_eal_init failed:
// the first thing EAL logged, else the first thing it printed (getopt's
// complaint about an unknown flag), passing over EAL's generic lines.
func initFailureDetail(logged []string, printed string) string {
	generic := func(line string) bool {
		return strings.Contains(line, "Invalid 'command line' arguments") ||
			strings.HasPrefix(line, "Usage:")
	}
	for _, text := range append(logged, printed) {
		for _, line := range strings.Split(text, "\n") {
			if line = strings.TrimSpace(line); line != "" && !generic(line) {
				return line
			}
		}
	}
	return ""
}
