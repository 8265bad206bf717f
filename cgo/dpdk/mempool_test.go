package dpdk

import (
	"errors"
	"strings"
	"syscall"
	"testing"
)

func TestPktMbufPoolCounts(t *testing.T) {
	mp, err := NewPktMbufPool("test_counts", 511, 0, DefaultMbufDataRoom, SocketAny, PackedWhereSafe)
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

	_, err = NewPktMbufPool("test_counts", 511, 0, DefaultMbufDataRoom, SocketAny, PackedWhereSafe)
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "File exists") {
		t.Errorf("pool with a taken name: err = %v, want ErrExists with rte_strerror text", err)
	}
	_, err = NewPktMbufPool(strings.Repeat("x", 64), 511, 0, DefaultMbufDataRoom, SocketAny, PackedWhereSafe)
	if !errors.Is(err, syscall.ENAMETOOLONG) {
		t.Errorf("pool with a long name: err = %v, want ENAMETOOLONG", err)
	}

	mp.Free()
	mp.Free() // twice is harmless
}

// Without hugepages (the tests' EAL) the pool lays mbufs end to end: their buffers start at
// many different offsets within a page, so a burst's frames do not all compete for the one
// L1 cache set DPDK's one-mbuf-per-page layout puts them in; and with IOVA as VA each
// buffer's IOVA, what a NIC would DMA to, is its address.
func TestPktMbufPoolPackedWithoutHugepages(t *testing.T) {
	mp, err := NewPktMbufPool("test_packed", 511, 0, DefaultMbufDataRoom, SocketAny, PackedWhereSafe)
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Free()
	if !mp.Packed() {
		t.Fatal("pool without hugepages is not packed")
	}
	if mp.Avail() != 511 {
		t.Errorf("packed pool holds %d free mbufs, want 511", mp.Avail())
	}
	addr, iova := mp.mbufBuffers()
	if len(addr) != 511 {
		t.Fatalf("walked %d mbufs, want 511", len(addr))
	}
	offsets := map[uintptr]bool{}
	for i, a := range addr {
		offsets[a%4096] = true
		if iova[i] != uint64(a) {
			t.Fatalf("mbuf %d: buffer IOVA %#x, address %#x: with IOVA as VA they must be equal", i, iova[i], a)
		}
	}
	// Objects of 2,368 bytes (an odd multiple of 64) end to end start at every one of a
	// page's 64 line offsets; one object per page would start at 1.
	if len(offsets) < 16 {
		t.Errorf("buffers start at %d distinct page offsets, want >= 16 (packed)", len(offsets))
	}

	// Freeing gives the memory back: the name can be used again.
	mp.Free()
	again, err := NewPktMbufPool("test_packed", 511, 0, DefaultMbufDataRoom, SocketAny, PackedWhereSafe)
	if err != nil {
		t.Fatalf("re-creating a freed packed pool: %v", err)
	}
	again.Free()
}

// PageBound keeps DPDK's layout, which AF_XDP zero-copy needs without hugepages: no
// buffer crosses a 4 KiB page.
func TestPktMbufPoolPageBound(t *testing.T) {
	mp, err := NewPktMbufPool("test_pagebound", 255, 0, DefaultMbufDataRoom, SocketAny, PageBound)
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Free()
	if mp.Packed() {
		t.Error("PageBound pool says it is packed")
	}
	addr, _ := mp.mbufBuffers()
	if len(addr) != 255 {
		t.Fatalf("walked %d mbufs, want 255", len(addr))
	}
	for i, a := range addr {
		if a/4096 != (a+uintptr(DefaultMbufDataRoom)-1)/4096 {
			t.Fatalf("mbuf %d: buffer %#x..+%d crosses a 4 KiB page", i, a, DefaultMbufDataRoom)
		}
	}
}
