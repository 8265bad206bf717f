package shm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Errors a caller can test for with errors.Is.
var (
	ErrBadMagic    = errors.New("not a tenbin region (bad magic)")
	ErrBadVersion  = errors.New("tenbin region layout version differs")
	ErrSizeChanged = errors.New("tenbin region was created with other sizes")
	ErrTooSmall    = errors.New("file too small for a tenbin region")
	ErrParams      = errors.New("invalid region parameters")
)

// Params are the sizes chosen when a region is created.
type Params struct {
	Lcores      uint32 // lcore slots with counters and a flow table (1..MaxLcores)
	LUTCapacity uint32 // lookup-table entries per config set
	FlowEntries uint32 // flow entries per lcore, a power of two >= FlowBucketWays
}

// DefaultParams suit a lab or a small appliance: 4 lcores, room for 16 Maglev tables of
// 65537 entries per config set, 256k flows per lcore (16 MiB of flow table each).
func DefaultParams() Params {
	return Params{Lcores: 4, LUTCapacity: 16 * 65537, FlowEntries: 1 << 18}
}

func (p Params) validate() error {
	switch {
	case p.Lcores < 1 || p.Lcores > MaxLcores:
		return fmt.Errorf("%w: lcores %d not in 1..%d", ErrParams, p.Lcores, MaxLcores)
	case p.LUTCapacity < 1 || p.LUTCapacity > 1<<26:
		return fmt.Errorf("%w: lut capacity %d not in 1..%d", ErrParams, p.LUTCapacity, 1<<26)
	case p.FlowEntries < FlowBucketWays || p.FlowEntries&(p.FlowEntries-1) != 0 || p.FlowEntries > 1<<28:
		return fmt.Errorf("%w: flow entries %d must be a power of two in %d..%d", ErrParams, p.FlowEntries, FlowBucketWays, 1<<28)
	}
	return nil
}

// hugePageSize is the unit regions are rounded to, so the same size works on hugetlbfs.
const hugePageSize = 2 << 20

func roundUp(n, to uint64) uint64 { return (n + to - 1) / to * to }

// Layout computes the header of a region with these parameters: offsets, sizes, total.
func Layout(p Params) (Header, error) {
	if err := p.validate(); err != nil {
		return Header{}, err
	}
	h := Header{
		Magic:       Magic,
		Version:     Version,
		HeaderSize:  uint32(unsafe.Sizeof(Header{})),
		NLcores:     p.Lcores,
		LUTCapacity: p.LUTCapacity,
		FlowEntries: p.FlowEntries,
	}
	off := roundUp(uint64(h.HeaderSize), CacheLine)
	h.LcoreStatesOffset = off
	off += MaxLcores * uint64(unsafe.Sizeof(LcoreState{}))
	h.ConfigSize = roundUp(uint64(unsafe.Sizeof(ConfigSet{}))+2*uint64(p.LUTCapacity), CacheLine)
	for i := range h.ConfigOffset {
		h.ConfigOffset[i] = off
		off += h.ConfigSize
	}
	h.NeighStatesOffset = off
	off += MaxNeigh * uint64(unsafe.Sizeof(NeighState{}))
	h.PortInfosOffset = off
	off = roundUp(off+MaxPorts*uint64(unsafe.Sizeof(PortInfo{})), CacheLine)
	h.CountersOffset = off
	h.CountersSize = uint64(unsafe.Sizeof(LcoreCounters{}))
	off += uint64(p.Lcores) * h.CountersSize
	h.FlowsOffset = roundUp(off, 4096)
	h.FlowsSize = roundUp(uint64(unsafe.Sizeof(FlowTableHdr{}))+
		uint64(p.FlowEntries)*uint64(unsafe.Sizeof(Flow{})+unsafe.Sizeof(FlowHop{})), 4096)
	off = h.FlowsOffset + uint64(p.Lcores)*h.FlowsSize
	h.TotalSize = roundUp(off, hugePageSize)
	return h, nil
}

// Region is a mapped tenbin region. Its accessors return pointers into the mapping; they
// stay valid until Close.
type Region struct {
	Path string
	mem  []byte
	hdr  *Header
}

// DefaultPath is /dev/hugepages/tenbin when hugetlbfs is mounted there, else /dev/shm/tenbin.
func DefaultPath() string {
	if HugetlbfsMounted("/dev/hugepages") {
		return "/dev/hugepages/tenbin"
	}
	return "/dev/shm/tenbin"
}

// HugetlbfsMounted reports whether dir is a hugetlbfs mount point.
func HugetlbfsMounted(dir string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false
	}
	return st.Type == unix.HUGETLBFS_MAGIC
}

// OpenOrCreate attaches to the region at path, creating it with p if it does not exist.
// An existing region must have the same magic, version and sizes; otherwise the caller
// gets a clear error and the file is left untouched (nothing running is disturbed).
func OpenOrCreate(path string, p Params) (*Region, error) {
	want, err := Layout(p)
	if err != nil {
		return nil, err
	}
	r, err := Open(path)
	if err == nil {
		if err := r.matches(want); err != nil {
			r.Close()
			return nil, err
		}
		return r, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return create(path, want)
}

// create writes a new region to a temporary file beside path and renames it into place,
// so another process never maps a half-initialised header.
func create(path string, h Header) (*Region, error) {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".new")
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create region: %w", err)
	}
	defer f.Close()
	if err := f.Truncate(int64(h.TotalSize)); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("create region %s (%d MiB): %w", path, h.TotalSize>>20, err)
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, int(h.TotalSize), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("map region %s: %w", path, err)
	}
	r := &Region{Path: path, mem: mem, hdr: (*Header)(unsafe.Pointer(&mem[0]))}
	*r.hdr = h
	for i := uint32(0); i < h.NLcores; i++ {
		r.FlowTableHdr(int(i)).NEntries = h.FlowEntries
	}
	for i := range 2 {
		r.ConfigSet(i).LUTCapacity = h.LUTCapacity
	}
	if err := os.Rename(tmp, path); err != nil {
		r.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("create region: %w", err)
	}
	return r, nil
}

// Open attaches to an existing region and checks its magic, version and size.
func Open(path string) (*Region, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size < int64(unsafe.Sizeof(Header{})) {
		return nil, fmt.Errorf("%s: %w (%d bytes)", path, ErrTooSmall, size)
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map region %s: %w", path, err)
	}
	r := &Region{Path: path, mem: mem, hdr: (*Header)(unsafe.Pointer(&mem[0]))}
	if err := r.check(uint64(size)); err != nil {
		r.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

func (r *Region) check(fileSize uint64) error {
	h := r.hdr
	if h.Magic != Magic {
		return fmt.Errorf("%w: %#x", ErrBadMagic, h.Magic)
	}
	if h.Version != Version {
		return fmt.Errorf("%w: region has %d, this binary speaks %d; stop both processes and remove the file", ErrBadVersion, h.Version, Version)
	}
	want, err := Layout(Params{Lcores: h.NLcores, LUTCapacity: h.LUTCapacity, FlowEntries: h.FlowEntries})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSizeChanged, err)
	}
	if err := r.sameLayout(want); err != nil {
		return err
	}
	if fileSize < h.TotalSize {
		return fmt.Errorf("%w: file is %d bytes, header says %d", ErrTooSmall, fileSize, h.TotalSize)
	}
	return nil
}

func (r *Region) sameLayout(want Header) error {
	h := r.hdr
	if h.HeaderSize != want.HeaderSize || h.TotalSize != want.TotalSize ||
		h.ConfigOffset != want.ConfigOffset || h.ConfigSize != want.ConfigSize ||
		h.LcoreStatesOffset != want.LcoreStatesOffset || h.NeighStatesOffset != want.NeighStatesOffset ||
		h.PortInfosOffset != want.PortInfosOffset || h.CountersOffset != want.CountersOffset ||
		h.CountersSize != want.CountersSize || h.FlowsOffset != want.FlowsOffset || h.FlowsSize != want.FlowsSize {
		return fmt.Errorf("%w: section offsets differ from this binary's layout", ErrSizeChanged)
	}
	return nil
}

// matches reports whether an existing region was created with the parameters of want.
func (r *Region) matches(want Header) error {
	h := r.hdr
	if h.NLcores != want.NLcores || h.LUTCapacity != want.LUTCapacity || h.FlowEntries != want.FlowEntries {
		return fmt.Errorf("%s: %w: it has lcores=%d lut=%d flows=%d, asked for lcores=%d lut=%d flows=%d; "+
			"use the same sizes, or stop both processes and remove the file",
			r.Path, ErrSizeChanged, h.NLcores, h.LUTCapacity, h.FlowEntries, want.NLcores, want.LUTCapacity, want.FlowEntries)
	}
	return nil
}

// Close unmaps the region. The file stays for the other process and for restarts.
func (r *Region) Close() error {
	if r.mem == nil {
		return nil
	}
	err := unix.Munmap(r.mem)
	r.mem, r.hdr = nil, nil
	return err
}

// Remove deletes the region file at path (after both processes have stopped).
func Remove(path string) error { return os.Remove(path) }

// Base returns the address of the mapping, for handing to C (dataplane only).
func (r *Region) Base() unsafe.Pointer { return unsafe.Pointer(&r.mem[0]) }

// Header returns the region header.
func (r *Region) Header() *Header { return r.hdr }

func at[T any](r *Region, off uint64) *T { return (*T)(unsafe.Pointer(&r.mem[off])) }

// LcoreState returns lcore slot i's state (0 <= i < MaxLcores).
func (r *Region) LcoreState(i int) *LcoreState {
	return at[LcoreState](r, r.hdr.LcoreStatesOffset+uint64(i)*uint64(unsafe.Sizeof(LcoreState{})))
}

// ConfigSet returns config set i (0 or 1).
func (r *Region) ConfigSet(i int) *ConfigSet { return at[ConfigSet](r, r.hdr.ConfigOffset[i]) }

// LUT returns config set i's lookup-table pool.
func (r *Region) LUT(i int) []uint16 {
	off := r.hdr.ConfigOffset[i] + uint64(unsafe.Sizeof(ConfigSet{}))
	return unsafe.Slice((*uint16)(unsafe.Pointer(&r.mem[off])), r.hdr.LUTCapacity)
}

// NeighState returns neighbour slot i's learned state.
func (r *Region) NeighState(i int) *NeighState {
	return at[NeighState](r, r.hdr.NeighStatesOffset+uint64(i)*uint64(unsafe.Sizeof(NeighState{})))
}

// PortInfo returns dataplane port i's description.
func (r *Region) PortInfo(i int) *PortInfo {
	return at[PortInfo](r, r.hdr.PortInfosOffset+uint64(i)*uint64(unsafe.Sizeof(PortInfo{})))
}

// Counters returns lcore slot i's counters.
func (r *Region) Counters(i int) *LcoreCounters {
	return at[LcoreCounters](r, r.hdr.CountersOffset+uint64(i)*r.hdr.CountersSize)
}

// FlowTableHdr returns lcore slot i's flow table header.
func (r *Region) FlowTableHdr(i int) *FlowTableHdr {
	return at[FlowTableHdr](r, r.hdr.FlowsOffset+uint64(i)*r.hdr.FlowsSize)
}

// Flows returns lcore slot i's flow entries.
func (r *Region) Flows(i int) []Flow {
	off := r.hdr.FlowsOffset + uint64(i)*r.hdr.FlowsSize + uint64(unsafe.Sizeof(FlowTableHdr{}))
	return unsafe.Slice((*Flow)(unsafe.Pointer(&r.mem[off])), r.hdr.FlowEntries)
}

// FlowHops returns lcore slot i's flow hops (hops[j] belongs to flow entry j).
func (r *Region) FlowHops(i int) []FlowHop {
	off := r.hdr.FlowsOffset + uint64(i)*r.hdr.FlowsSize + uint64(unsafe.Sizeof(FlowTableHdr{})) +
		uint64(r.hdr.FlowEntries)*uint64(unsafe.Sizeof(Flow{}))
	return unsafe.Slice((*FlowHop)(unsafe.Pointer(&r.mem[off])), r.hdr.FlowEntries)
}

// ActiveIndex returns the config set the lcores read (acquire load).
func (r *Region) ActiveIndex() int { return int(atomic.LoadUint64(&r.hdr.Active) & 1) }

// NowMs is CLOCK_MONOTONIC in milliseconds, the clock of every *_ms field in the region:
// system-wide, so it means the same in both processes and across a dataplane restart.
func NowMs() uint64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return uint64(ts.Sec)*1000 + uint64(ts.Nsec)/1e6
}

// HeartbeatAge is how long ago a heartbeat written as ms was, or a very long time if never.
func HeartbeatAge(ms uint64) time.Duration {
	if ms == 0 {
		return 1<<63 - 1
	}
	now := NowMs()
	if ms > now {
		return 0
	}
	return time.Duration(now-ms) * time.Millisecond
}

// CString returns a NUL-terminated fixed-size name as a Go string.
func CString(b []byte) string {
	s := string(b)
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return s
}

// SetName copies s into a fixed-size name field, truncating and NUL-terminating.
func SetName(dst []byte, s string) {
	clear(dst)
	copy(dst[:len(dst)-1], s)
}
