package shm

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func smallParams() Params { return Params{Lcores: 2, LUTCapacity: 4096, FlowEntries: 1024} }

func TestCreateThenReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "region")
	r, err := OpenOrCreate(path, smallParams())
	if err != nil {
		t.Fatal(err)
	}
	r.LcoreState(1).HeartbeatMs = 42
	r.Counters(1).Global[CtrRxPkts] = 7
	r.Flows(1)[1023].Sig = 9
	r.Close()

	r2, err := OpenOrCreate(path, smallParams())
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer r2.Close()
	if r2.LcoreState(1).HeartbeatMs != 42 || r2.Counters(1).Global[CtrRxPkts] != 7 || r2.Flows(1)[1023].Sig != 9 {
		t.Error("reopened region lost what was written")
	}
	if r2.FlowTableHdr(0).NEntries != 1024 || r2.ConfigSet(1).LUTCapacity != 4096 {
		t.Error("sizes not stamped in the sections")
	}
	if st, _ := os.Stat(path); st.Size()%hugePageSize != 0 || st.Mode().Perm() != 0o600 {
		t.Errorf("region file size %d mode %v", st.Size(), st.Mode())
	}
}

func TestRefusesOtherSizes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "region")
	r, err := OpenOrCreate(path, smallParams())
	if err != nil {
		t.Fatal(err)
	}
	r.Counters(0).Global[CtrRxPkts] = 5
	r.Close()
	p := smallParams()
	p.FlowEntries = 2048
	if _, err := OpenOrCreate(path, p); !errors.Is(err, ErrSizeChanged) {
		t.Fatalf("want ErrSizeChanged, got %v", err)
	}
	r, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Counters(0).Global[CtrRxPkts] != 5 {
		t.Error("refusing a region must leave it untouched")
	}
}

func TestRefusesForeignFiles(t *testing.T) {
	dir := t.TempDir()
	tiny := filepath.Join(dir, "tiny")
	os.WriteFile(tiny, []byte("hello"), 0o600)
	if _, err := Open(tiny); !errors.Is(err, ErrTooSmall) {
		t.Errorf("tiny file: %v", err)
	}
	junk := filepath.Join(dir, "junk")
	os.WriteFile(junk, make([]byte, 4096), 0o600)
	if _, err := OpenOrCreate(junk, smallParams()); !errors.Is(err, ErrBadMagic) {
		t.Errorf("zeroed file: %v", err)
	}
	path := filepath.Join(dir, "region")
	r, _ := OpenOrCreate(path, smallParams())
	r.Header().Version = 99
	r.Close()
	if _, err := Open(path); !errors.Is(err, ErrBadVersion) {
		t.Errorf("other version: %v", err)
	}
}

func TestLayoutValidatesParams(t *testing.T) {
	for _, p := range []Params{{0, 1, 4}, {17, 1, 4}, {1, 0, 4}, {1, 1, 3}, {1, 1, 6}} {
		if _, err := Layout(p); !errors.Is(err, ErrParams) {
			t.Errorf("Layout(%+v) = %v, want ErrParams", p, err)
		}
	}
}
