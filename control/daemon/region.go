package daemon

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"

	"tenbin/control/shm"
)

// attachedRegion is the mapped region with its writer and where each service and backend
// sits in it (for reading counters).
type attachedRegion struct {
	path   string
	r      *shm.Region
	writer *shm.Writer
	inode  uint64
	pid    uint64

	// slots are replaced whole after each publish and read without mu: an atomic pointer.
	slots atomic.Pointer[slotMap]
}

type slotMap struct {
	services map[string]int
	backends map[BackendKey]int
}

// attach opens the region at path, creating it when no dataplane has yet.
func attach(path string, params shm.Params) (*attachedRegion, error) {
	r, err := shm.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		r, err = shm.OpenOrCreate(path, params)
	}
	if err != nil {
		return nil, fmt.Errorf("region %s: %w", path, err)
	}
	a := &attachedRegion{path: path, r: r, writer: shm.NewWriter(r), pid: uint64(os.Getpid())}
	a.inode, _ = inodeOf(path)
	a.slots.Store(&slotMap{})
	a.beat()
	return a, nil
}

func inodeOf(path string) (uint64, bool) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, false
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return sys.Ino, true
}

// replaced reports whether path now names another file than the one mapped: the
// dataplane recreated the region. A missing file is not a replacement (yet).
func (a *attachedRegion) replaced() bool {
	if a.r == nil {
		return false
	}
	ino, ok := inodeOf(a.path)
	return ok && ino != a.inode
}

func (a *attachedRegion) beat() {
	if a.r == nil {
		return // closed
	}
	h := a.r.Header()
	// Atomic stores: the dataplane (and `tenbin status`) read these from another process.
	atomic.StoreUint64(&h.ControlPID, a.pid)
	atomic.StoreUint64(&h.ControlHeartbeatMs, shm.NowMs())
}

func (a *attachedRegion) close() {
	if a.r != nil {
		a.r.Close()
		a.r = nil
	}
}

// learnSlots records where the writer put each service and backend of res, reading the
// active set (the writer keeps its slot maps private).
func (a *attachedRegion) learnSlots(res *Result) {
	cs := a.r.ConfigSet(a.r.ActiveIndex())
	m := &slotMap{services: map[string]int{}, backends: map[BackendKey]int{}}
	type beKey struct {
		svc  int
		addr netip.Addr
		port uint16
	}
	byAddr := map[beKey]int{}
	for i := 1; i < int(cs.NBackends) && i < shm.MaxBackends; i++ {
		b := &cs.Backends[i]
		if b.Family != 0 {
			byAddr[beKey{int(b.Service), addrOf(b.Addr, b.Family), b.Port}] = i
		}
	}
	for i := 0; i < int(cs.NServices) && i < shm.MaxServices; i++ {
		if cs.Services[i].Family != 0 {
			m.services[shm.CString(cs.Services[i].Name[:])] = i
		}
	}
	for _, s := range res.Services {
		si, ok := m.services[s.Name]
		if !ok {
			continue
		}
		for _, b := range s.Backends {
			if bi, ok := byAddr[beKey{si, b.Address.Unmap(), b.Port}]; ok {
				m.backends[BackendKey{s.Name, b.Name}] = bi
			}
		}
	}
	a.slots.Store(m)
}

// presentBackends lists the backends the active set holds as present with a weight,
// named by service and address (names are not in the region): the caller matches them to
// the configuration.
func (a *attachedRegion) presentBackends() map[addrKey]bool {
	cs := a.r.ConfigSet(a.r.ActiveIndex())
	out := map[addrKey]bool{}
	if cs.Generation == 0 {
		return out
	}
	for i := 1; i < int(cs.NBackends) && i < shm.MaxBackends; i++ {
		b := &cs.Backends[i]
		if b.Family == 0 || b.Flags&shm.BackendPresent == 0 || b.Weight == 0 || int(b.Service) >= shm.MaxServices {
			continue
		}
		svc := shm.CString(cs.Services[b.Service].Name[:])
		out[addrKey{svc, addrOf(b.Addr, b.Family), b.Port}] = true
	}
	return out
}

// addrKey names a backend the way the region does.
type addrKey struct {
	service string
	addr    netip.Addr
	port    uint16
}

func addrOf(b [16]byte, family uint8) netip.Addr {
	if family == 4 {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16(b)
}
