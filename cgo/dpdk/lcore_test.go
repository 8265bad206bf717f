package dpdk

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestLcores(t *testing.T) {
	if got := LcoreCount(); got != 2 {
		t.Errorf("LcoreCount() = %d, want 2 (-l 0,1)", got)
	}
	if got := MainLcore(); got != 0 {
		t.Errorf("MainLcore() = %d, want 0", got)
	}
	if got := WorkerLcores(); !slices.Equal(got, []uint{1}) {
		t.Errorf("WorkerLcores() = %v, want [1]", got)
	}
	if got := SocketID(0); got < 0 {
		t.Errorf("SocketID(0) = %d, want a socket", got)
	}
	if got := SocketID(7); got != SocketAny {
		t.Errorf("SocketID(7) = %d for a disabled lcore, want SocketAny", got)
	}
	// Test goroutines are not EAL threads.
	if got := LcoreID(); got != LcoreAny {
		t.Errorf("LcoreID() in a test goroutine = %d, want LcoreAny", got)
	}
}

func TestLaunchGoRunsOnWorker(t *testing.T) {
	var ran uint
	if err := LaunchGo(1, func() int { ran = LcoreID(); return 42 }); err != nil {
		t.Fatal(err)
	}
	ret, err := WaitLcore(1)
	if err != nil {
		t.Fatal(err)
	}
	if ret != 42 || ran != 1 {
		t.Errorf("worker returned %d on lcore %d, want 42 on lcore 1", ret, ran)
	}
}

func TestLaunchBusyAndWaitAll(t *testing.T) {
	release := make(chan struct{})
	if err := LaunchGo(1, func() int { <-release; return 7 }); err != nil {
		t.Fatal(err)
	}
	if err := LaunchGo(1, func() int { return 0 }); !errors.Is(err, ErrBusy) {
		t.Errorf("second launch on a running lcore: err = %v, want ErrBusy", err)
	}
	time.AfterFunc(20*time.Millisecond, func() { close(release) })
	if got := WaitAll(); got[1] != 7 {
		t.Errorf("WaitAll() = %v, want lcore 1 → 7", got)
	}
}

func TestLaunchRefusesNonWorkers(t *testing.T) {
	for _, lcore := range []uint{0, 5, 1 << 20} {
		if err := LaunchRemote(lcore, launchEntryForTest(), nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("LaunchRemote(%d): err = %v, want ErrInvalid", lcore, err)
		}
		if _, err := WaitLcore(lcore); !errors.Is(err, ErrInvalid) {
			t.Errorf("WaitLcore(%d): err = %v, want ErrInvalid", lcore, err)
		}
	}
	if err := LaunchRemote(1, nil, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("LaunchRemote with a nil function: err = %v, want ErrInvalid", err)
	}
}
