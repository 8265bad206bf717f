package dpdk

import (
	"errors"
	"strings"
	"syscall"
	"testing"
)

func TestPktMbufPoolCounts(t *testing.T) {
	mp, err := NewPktMbufPool("test_counts", 511, 0, DefaultMbufDataRoom, SocketAny)
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Free()
	if mp.Name() != "test_counts" || mp.Size() != 511 || mp.Avail() != 511 || mp.InUse() != 0 {
		t.Errorf("new pool %q: size %d avail %d in use %d, want test_counts 511/511/0",
			mp.Name(), mp.Size(), mp.Avail(), mp.InUse())
	}
	if mp.Ptr() == nil {
		t.Error("Ptr() is nil")
	}

	_, err = NewPktMbufPool("test_counts", 511, 0, DefaultMbufDataRoom, SocketAny)
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "File exists") {
		t.Errorf("pool with a taken name: err = %v, want ErrExists with rte_strerror text", err)
	}
	_, err = NewPktMbufPool(strings.Repeat("x", 64), 511, 0, DefaultMbufDataRoom, SocketAny)
	if !errors.Is(err, syscall.ENAMETOOLONG) {
		t.Errorf("pool with a long name: err = %v, want ENAMETOOLONG", err)
	}

	mp.Free()
	mp.Free() // twice is harmless
}
