package realserver

import (
	"context"
	"net/netip"
	"slices"
)

// fakeHost is a host held in memory: Apply changes the Observed it returns, as the kernel would.
type fakeHost struct {
	o       Observed
	applied []Change
}

// freshHost looks like a newly booted server: lo plus eth0 holding the RIPs, kernel defaults,
// strict rp_filter as many distributions ship it.
func freshHost() *fakeHost {
	o := Observed{
		Links: []Link{
			{Name: "lo", Loopback: true, Up: true, Addrs: []Addr{{Prefix: netip.MustParsePrefix("127.0.0.1/8")}, {Prefix: netip.MustParsePrefix("::1/128")}}},
			{Name: "eth0", Up: true, Addrs: []Addr{{Prefix: netip.MustParsePrefix("198.18.1.2/24")}, {Prefix: netip.MustParsePrefix("2001:db8:1::2/64")}}},
		},
		Sysctls:      map[string]string{},
		NftAvailable: true,
	}
	for _, iface := range []string{"all", "default", "lo", "eth0"} {
		o.Sysctls[confKey(iface, knobArpIgnore)] = "0"
		o.Sysctls[confKey(iface, knobArpAnnounce)] = "0"
		o.Sysctls[confKey(iface, knobRPFilter)] = "0"
	}
	o.Sysctls[confKey("all", knobRPFilter)] = "1"
	o.Sysctls[confKey("eth0", knobRPFilter)] = "1"
	return &fakeHost{o: o}
}

func (h *fakeHost) Observe(context.Context) (Observed, error) {
	o := h.o
	o.Links = slices.Clone(h.o.Links)
	for i := range o.Links {
		o.Links[i].Addrs = slices.Clone(o.Links[i].Addrs)
	}
	o.Sysctls = map[string]string{}
	for k, v := range h.o.Sysctls {
		o.Sysctls[k] = v
	}
	o.NftTables = slices.Clone(h.o.NftTables)
	o.NftRules = slices.Clone(h.o.NftRules)
	return o, nil
}

func (h *fakeHost) Apply(_ context.Context, c Change) error {
	h.applied = append(h.applied, c)
	switch c.Action {
	case ActionAddAddress, ActionDeleteAddress:
		for i := range h.o.Links {
			l := &h.o.Links[i]
			if l.Name != c.Dev {
				continue
			}
			l.Addrs = slices.DeleteFunc(l.Addrs, func(a Addr) bool { return a.Prefix == c.Prefix })
			if c.Action == ActionAddAddress {
				l.Addrs = append(l.Addrs, Addr{Prefix: c.Prefix})
			}
		}
	case ActionSetSysctl:
		h.o.Sysctls[c.Key] = c.To
	case ActionReplaceTable, ActionDeleteTable:
		h.o.NftTables = slices.DeleteFunc(h.o.NftTables, func(t NftTable) bool { return t == c.Table })
		h.o.NftRules = slices.DeleteFunc(h.o.NftRules, func(r NftRule) bool { return r.Family == c.Table.Family && r.Table == c.Table.Name })
		if c.Action == ActionReplaceTable {
			h.o.NftTables = append(h.o.NftTables, c.Table)
			h.o.NftRules = append(h.o.NftRules, c.rules...)
		}
	}
	return nil
}
