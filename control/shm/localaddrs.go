package shm

import (
	"fmt"
	"net/netip"
	"slices"
	"sync/atomic"
)

// fnat local-address slots (config set local_addrs). A connection names its local address
// by slot (struct tenbin_flow.nat_addr) and the dataplane rewrites its client packets from
// the slot in whatever set is active, so a slot must keep its address for as long as a
// connection holds it. The Writer therefore:
//   - keeps a service's pool (a run of slots) while its address list stays the same;
//   - gives a changed pool a fresh run, and keeps the old slots' addresses, outside any
//     pool ("draining"), while connections hold them;
//   - gives a slot another address only when no pool of the active set has it (so no lcore
//     can open a connection on it any more: every live lcore is on the active set when the
//     next one is written) and every lcore's local_conns count for it is 0.
// A publish that finds no free run for a changed pool fails with ErrBadSpec; the running
// set stays.

// localPool is a service's run of local-address slots.
type localPool struct {
	first uint8
	addrs []netip.Addr
}

// localSlots is the local-address side of a plan (or of the active set).
type localSlots struct {
	pools map[string]localPool // service name → its run
	addrs [MaxLocalAddrs]netip.Addr
}

// adoptLocalSlots reads the slots of an active config set (a restarted control plane):
// pools from the services, and the addresses of every slot, draining ones included.
func adoptLocalSlots(cs *ConfigSet) localSlots {
	ls := localSlots{pools: map[string]localPool{}}
	for i := range cs.LocalAddrs {
		if la := &cs.LocalAddrs[i]; la.Family != 0 {
			ls.addrs[i] = addrFrom(la.Addr, la.Family)
		}
	}
	for i := 0; i < int(cs.NServices) && i < MaxServices; i++ {
		s := &cs.Services[i]
		if s.Family == 0 || s.LocalCount == 0 || int(s.LocalPool)+int(s.LocalCount) > MaxLocalAddrs {
			continue
		}
		p := localPool{first: s.LocalPool}
		for j := range int(s.LocalCount) {
			p.addrs = append(p.addrs, ls.addrs[int(s.LocalPool)+j])
		}
		ls.pools[CString(s.Name[:])] = p
	}
	return ls
}

// localConns is how many fnat connections all lcores hold on slot i.
func (w *Writer) localConns(i int) uint64 {
	var n uint64
	for l := 0; l < int(w.r.hdr.NLcores) && l < MaxLcores; l++ {
		n += atomic.LoadUint64(&w.r.Counters(l).LocalConns[i])
	}
	return n
}

// planLocalSlots assigns the local-address slots of d's fnat pools.
func (w *Writer) planLocalSlots(d *Desired) (localSlots, error) {
	p := localSlots{pools: map[string]localPool{}}
	var inActivePool [MaxLocalAddrs]bool
	for _, pool := range w.locals.pools {
		for j := range pool.addrs {
			inActivePool[int(pool.first)+j] = true
		}
	}
	// Pools that stay as they are keep their runs.
	var fresh []ServiceSpec
	for _, s := range d.Services {
		if len(s.LocalAddrs) == 0 {
			continue
		}
		if len(s.LocalAddrs) > MaxLocalAddrs {
			return p, fmt.Errorf("%w: service %s has more than %d local addresses", ErrBadSpec, s.Name, MaxLocalAddrs)
		}
		addrs := make([]netip.Addr, len(s.LocalAddrs))
		for j, a := range s.LocalAddrs {
			addrs[j] = a.Unmap()
		}
		if old, ok := w.locals.pools[s.Name]; ok && slices.Equal(old.addrs, addrs) {
			p.pools[s.Name] = old
			copy(p.addrs[old.first:], addrs)
			continue
		}
		fresh = append(fresh, ServiceSpec{Name: s.Name, LocalAddrs: addrs})
	}
	// Slots no pool keeps: still held (draining) while the active set offers them to new
	// connections or connections hold them; free otherwise.
	draining := 0
	for i, a := range w.locals.addrs {
		if !a.IsValid() || p.addrs[i].IsValid() {
			continue
		}
		if inActivePool[i] || w.localConns(i) > 0 {
			p.addrs[i] = a
			draining++
		}
	}
	// Changed and new pools take the first free run long enough.
	for _, s := range fresh {
		first, ok := freeRun(&p.addrs, len(s.LocalAddrs))
		if !ok {
			return p, fmt.Errorf("%w: no %d free local-address slots in a row for service %s (%d slots in all; %d held by "+
				"connections through addresses that left their pools, until those close)", ErrBadSpec,
				len(s.LocalAddrs), s.Name, MaxLocalAddrs, draining)
		}
		p.pools[s.Name] = localPool{first: uint8(first), addrs: s.LocalAddrs}
		copy(p.addrs[first:], s.LocalAddrs)
	}
	return p, nil
}

// freeRun finds n consecutive unused slots.
func freeRun(addrs *[MaxLocalAddrs]netip.Addr, n int) (int, bool) {
	run := 0
	for i, a := range addrs {
		if a.IsValid() {
			run = 0
			continue
		}
		if run++; run == n {
			return i - n + 1, true
		}
	}
	return 0, false
}

// fillLocalSlots writes the slots and each fnat service's run into cs.
func fillLocalSlots(cs *ConfigSet, d *Desired, services map[string]uint16, ls localSlots) {
	for i, a := range ls.addrs {
		if a.IsValid() {
			cs.LocalAddrs[i].Addr, cs.LocalAddrs[i].Family = addrBytes(a)
		}
	}
	for _, s := range d.Services {
		if pool, ok := ls.pools[s.Name]; ok {
			sv := &cs.Services[services[s.Name]]
			sv.LocalPool, sv.LocalCount = pool.first, uint8(len(pool.addrs))
		}
	}
}
