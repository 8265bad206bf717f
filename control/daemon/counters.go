package daemon

import (
	"net/netip"
	"sync/atomic"
	"time"

	"tenbin/control/shm"
)

// ObjCounters are one service's or backend's counters, summed over the lcores.
type ObjCounters struct {
	Packets     uint64 `json:"packets"`
	Bytes       uint64 `json:"bytes"`
	NewFlows    uint64 `json:"new_flows"`
	ActiveFlows uint64 `json:"active_flows"` // an estimate: flows in the tables, idle ones included
	// The reply direction (server → client), which passes the balancer only in nat/fnat.
	ReplyPackets uint64 `json:"reply_packets"`
	ReplyBytes   uint64 `json:"reply_bytes"`
}

// Stats are the dataplane's counters at one instant.
type Stats struct {
	At       time.Time         `json:"at"`
	Global   map[string]uint64 `json:"global"`
	Drops    map[string]uint64 `json:"drops"`
	Services []ServiceStats    `json:"services"`
	// fnat local addresses the active set holds, in pools or draining (left their pools,
	// kept while connections through them last), with the connections through each.
	LocalAddresses []LocalAddrStats `json:"local_addresses,omitempty"`
}

// LocalAddrStats is one fnat local address: its open connections, over every slot (a pool
// shared by several services, or a pool changed while connections were open, gives an
// address several slots).
type LocalAddrStats struct {
	Address     netip.Addr `json:"address"`
	Connections uint64     `json:"connections"`
}

// ServiceStats are a service's counters and its backends'.
type ServiceStats struct {
	Name string `json:"name"`
	ObjCounters
	Backends []BackendStats `json:"backends"`
}

// BackendStats are one backend's counters.
type BackendStats struct {
	Name    string     `json:"name"`
	Address netip.Addr `json:"address"`
	Port    uint16     `json:"port"`
	ObjCounters
}

// Stats sums the lcores' counters. It does not wait for a publish in progress.
func (e *Engine) Stats() Stats {
	res := e.view.Load().result
	e.regionMu.RLock()
	defer e.regionMu.RUnlock()
	return e.reg.stats(res)
}

func (a *attachedRegion) stats(res *Result) Stats {
	st := Stats{At: time.Now(), Global: map[string]uint64{}, Drops: map[string]uint64{}}
	if a.r == nil {
		return st
	}
	n := int(a.r.Header().NLcores)
	for ci, name := range shm.CounterNames {
		st.Global[name] = a.sum(n, func(c *shm.LcoreCounters) *uint64 { return &c.Global[ci] })
	}
	for di, name := range shm.DropReasonNames {
		st.Drops[name] = a.sum(n, func(c *shm.LcoreCounters) *uint64 { return &c.Drops[di] })
	}
	st.LocalAddresses = a.localAddrs(n)
	if res == nil {
		return st
	}
	slots := a.slots.Load()
	for _, s := range res.Services {
		ss := ServiceStats{Name: s.Name}
		if si, ok := slots.services[s.Name]; ok {
			ss.ObjCounters = a.obj(n, func(c *shm.LcoreCounters) *[shm.ObjCounterMax]uint64 { return &c.Service[si] })
			a.replies(n, &ss.ObjCounters, func(c *shm.LcoreCounters) *[shm.ReplyCtrMax]uint64 { return &c.ServiceReply[si] })
		}
		for _, b := range s.Backends {
			bs := BackendStats{Name: b.Name, Address: b.Address, Port: b.Port}
			if bi, ok := slots.backends[BackendKey{s.Name, b.Name}]; ok {
				bs.ObjCounters = a.obj(n, func(c *shm.LcoreCounters) *[shm.ObjCounterMax]uint64 { return &c.Backend[bi] })
				a.replies(n, &bs.ObjCounters, func(c *shm.LcoreCounters) *[shm.ReplyCtrMax]uint64 { return &c.BackendReply[bi] })
			}
			ss.Backends = append(ss.Backends, bs)
		}
		// The dataplane counts active flows per backend only; a service's are its backends'.
		ss.ActiveFlows = 0
		for _, b := range ss.Backends {
			ss.ActiveFlows += b.ActiveFlows
		}
		st.Services = append(st.Services, ss)
	}
	return st
}

// localAddrs sums the lcores' fnat connection counts per local address of the active set.
func (a *attachedRegion) localAddrs(n int) []LocalAddrStats {
	cs := a.r.ConfigSet(a.r.ActiveIndex())
	var out []LocalAddrStats
	at := map[netip.Addr]int{}
	for i := range cs.LocalAddrs {
		la := &cs.LocalAddrs[i]
		if la.Family == 0 {
			continue
		}
		addr := addrOf(la.Addr, la.Family)
		j, ok := at[addr]
		if !ok {
			j = len(out)
			at[addr] = j
			out = append(out, LocalAddrStats{Address: addr})
		}
		out[j].Connections += a.sum(n, func(c *shm.LcoreCounters) *uint64 { return &c.LocalConns[i] })
	}
	return out
}

// sum adds one counter over n lcores. Each lcore is its counter's only writer; an atomic
// load sees a whole value.
func (a *attachedRegion) sum(n int, field func(*shm.LcoreCounters) *uint64) uint64 {
	var total uint64
	for i := range n {
		total += atomic.LoadUint64(field(a.r.Counters(i)))
	}
	return total
}

func (a *attachedRegion) obj(n int, row func(*shm.LcoreCounters) *[shm.ObjCounterMax]uint64) ObjCounters {
	var o ObjCounters
	for i := range n {
		r := row(a.r.Counters(i))
		o.Packets += atomic.LoadUint64(&r[shm.ObjPkts])
		o.Bytes += atomic.LoadUint64(&r[shm.ObjBytes])
		o.NewFlows += atomic.LoadUint64(&r[shm.ObjNewFlows])
		o.ActiveFlows += atomic.LoadUint64(&r[shm.ObjActiveFlows])
	}
	return o
}

func (a *attachedRegion) replies(n int, o *ObjCounters, row func(*shm.LcoreCounters) *[shm.ReplyCtrMax]uint64) {
	for i := range n {
		r := row(a.r.Counters(i))
		o.ReplyPackets += atomic.LoadUint64(&r[shm.ReplyPkts])
		o.ReplyBytes += atomic.LoadUint64(&r[shm.ReplyBytes])
	}
}
