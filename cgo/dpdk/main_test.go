package dpdk

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// childEnv makes the test binary, started again by a test, run one failing
// InitEAL and print its error: EAL starts only once per process.
const childEnv = "TENBIN_DPDK_TEST_CHILD"

// testEALArgs starts EAL without hugepages or PCI, with two lcores and one
// null port, under a runtime prefix no other test binary shares.
func testEALArgs() EALArgs {
	return EALArgs{
		ProgramName: "dpdk.test",
		Lcores:      "0,1",
		MemoryMB:    256,
		NoHuge:      true,
		NoPCI:       true,
		NoTelemetry: true,
		// --in-memory refuses --no-huge (which implies legacy memory);
		// --no-shconf keeps the config out of the runtime directory.
		Extra:      []string{"--no-shconf"},
		Vdevs:      []string{"net_null0"},
		FilePrefix: fmt.Sprintf("tenbin-dpdk-test-%d", os.Getpid()),
	}
}

// syncBuffer collects DPDK's log so a failing test can show it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var testLog syncBuffer

func TestMain(m *testing.M) {
	if extra := os.Getenv(childEnv); extra != "" {
		runChild(extra)
		return
	}
	// EAL makes this thread the main lcore; TestMain's goroutine keeps it.
	runtime.LockOSThread()
	SetLogWriter(&testLog)
	if _, err := InitEAL(testEALArgs().Args()); err != nil {
		fmt.Fprintf(os.Stderr, "InitEAL: %v\nEAL log:\n%s", err, testLog.String())
		os.Exit(1)
	}
	code := m.Run()
	dir := RuntimeDir()
	if err := CleanupEAL(); err != nil {
		fmt.Fprintf(os.Stderr, "CleanupEAL: %v\n", err)
		code = 1
	}
	removeRuntimeDir(dir)
	os.Exit(code)
}

// runChild starts EAL with one extra argument, which the test expects to
// fail, and prints only the error, as a dataplane binary would.
func runChild(extra string) {
	runtime.LockOSThread()
	SetLogWriter(nil)
	args := testEALArgs()
	args.Vdevs = nil
	args.Extra = append(args.Extra, extra)
	_, err := InitEAL(args.Args())
	fmt.Println(err)
	removeRuntimeDir(RuntimeDir())
	os.Exit(0)
}

// removeRuntimeDir deletes the runtime directory EAL leaves behind, only
// if it carries this process's own prefix.
func removeRuntimeDir(dir string) {
	if dir != "" && filepath.Base(dir) == testEALArgs().FilePrefix {
		_ = os.RemoveAll(dir)
	}
}
