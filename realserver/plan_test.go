package realserver

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"
)

func changeLines(cs []Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.String()
	}
	return out
}

func TestPlanSetupL2DSR(t *testing.T) {
	spec := Spec{Mode: ModeL2DSR, VIPs: []VIP{vip("2001:db8::10", 0), vip("198.18.0.10", 0)}}
	got, err := PlanSetup(spec, freshHost().o)
	if err != nil {
		t.Fatal(err)
	}
	// ARP sysctls before any VIP goes on lo, so the server never answers ARP for it.
	want := []string{
		"sysctl -w net.ipv4.conf.all.arp_ignore=1",
		"sysctl -w net.ipv4.conf.all.arp_announce=2",
		"sysctl -w net.ipv4.conf.default.arp_ignore=1",
		"sysctl -w net.ipv4.conf.default.arp_announce=2",
		"sysctl -w net.ipv4.conf.lo.arp_ignore=1",
		"sysctl -w net.ipv4.conf.lo.arp_announce=2",
		"ip addr add 198.18.0.10/32 dev lo",
		"ip addr add 2001:db8::10/128 dev lo nodad",
	}
	if lines := changeLines(got); !slices.Equal(lines, want) {
		t.Errorf("plan:\n%q\nwant\n%q", lines, want)
	}
}

func TestPlanSetupL2DSRKeepsStricterARP(t *testing.T) {
	h := freshHost()
	h.o.Sysctls[confKey("all", knobArpIgnore)] = "2" // stricter than needed: leave it
	h.o.Sysctls[confKey("all", knobArpAnnounce)] = "1"
	spec := Spec{Mode: ModeL2DSR, VIPs: []VIP{vip("198.18.0.10", 0)}}
	got, _ := PlanSetup(spec, h.o)
	lines := changeLines(got)
	if slices.Contains(lines, "sysctl -w net.ipv4.conf.all.arp_ignore=1") {
		t.Error("lowered arp_ignore from 2 to 1")
	}
	if !slices.Contains(lines, "sysctl -w net.ipv4.conf.all.arp_announce=2") {
		t.Errorf("arp_announce 1 not raised to 2: %q", lines)
	}
}

func TestPlanSetupIPv6OnlyL2DSRNeedsNoARP(t *testing.T) {
	spec := Spec{Mode: ModeL2DSR, VIPs: []VIP{vip("2001:db8::10", 0)}}
	got, _ := PlanSetup(spec, freshHost().o)
	if lines := changeLines(got); !slices.Equal(lines, []string{"ip addr add 2001:db8::10/128 dev lo nodad"}) {
		t.Errorf("plan = %q", lines)
	}
}

func TestPlanSetupL3DSR(t *testing.T) {
	spec := l3dsrSpec(vip("198.18.0.10", 0x22), vip("2001:db8::10", 0x22))
	got, err := PlanSetup(spec, freshHost().o)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"sysctl -w net.ipv4.conf.all.rp_filter=2",
		"sysctl -w net.ipv4.conf.eth0.rp_filter=2",
		"nft '" + nftReplaceScript(l3dsrTable(false), desiredNftRules(spec, false)) + "'",
		"nft '" + nftReplaceScript(l3dsrTable(true), desiredNftRules(spec, true)) + "'",
		"ip addr add 198.18.0.10/32 dev lo",
		"ip addr add 2001:db8::10/128 dev lo nodad",
	}
	if lines := changeLines(got); !slices.Equal(lines, want) {
		t.Errorf("plan:\n%q\nwant\n%q", lines, want)
	}
}

func TestPlanSetupL3DSRLeavesLooseOrOffRPFilter(t *testing.T) {
	h := freshHost()
	h.o.Sysctls[confKey("all", knobRPFilter)] = "0"
	h.o.Sysctls[confKey("eth0", knobRPFilter)] = "2"
	got, _ := PlanSetup(l3dsrSpec(vip("198.18.0.10", 0x22)), h.o)
	for _, c := range got {
		if c.Action == ActionSetSysctl {
			t.Errorf("unneeded sysctl change: %s", c)
		}
	}
}

func TestPlanSetupL3DSRRefusals(t *testing.T) {
	h := freshHost()
	spec := l3dsrSpec(vip("198.18.0.10", 0x22))
	spec.RIPs = []netip.Addr{netip.MustParseAddr("198.18.1.99")}
	if _, err := PlanSetup(spec, h.o); !errors.Is(err, ErrRIPNotLocal) {
		t.Errorf("RIP not on any interface: err = %v, want ErrRIPNotLocal", err)
	}
	h.o.NftAvailable = false
	if _, err := PlanSetup(l3dsrSpec(vip("198.18.0.10", 0x22)), h.o); !errors.Is(err, ErrNftMissing) {
		t.Errorf("no nft: err = %v, want ErrNftMissing", err)
	}
	if _, err := PlanSetup(Spec{Mode: ModeL3DSR}, freshHost().o); !errors.Is(err, ErrInvalidSpec) {
		t.Errorf("invalid spec: err = %v, want ErrInvalidSpec", err)
	}
}

// A second plan on the host the first one produced is empty, whatever the mode.
func TestPlanSetupIsIdempotent(t *testing.T) {
	for _, spec := range []Spec{
		{Mode: ModeL2DSR, VIPs: []VIP{vip("198.18.0.10", 0), vip("2001:db8::10", 0)}},
		l3dsrSpec(vip("198.18.0.10", 0x22), vip("198.18.0.11", 0x24), vip("2001:db8::10", 0x22)),
	} {
		h := freshHost()
		first, err := PlanSetup(spec, h.o)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range first {
			_ = h.Apply(context.Background(), c)
		}
		again, err := PlanSetup(spec, h.o)
		if err != nil || len(again) != 0 {
			t.Errorf("%s: second plan = %q, %v; want nothing", spec.Mode, changeLines(again), err)
		}
	}
}

// A changed DSCP replaces our table rather than adding a second rule beside the old one.
func TestPlanSetupReplacesStaleRuleset(t *testing.T) {
	h := freshHost()
	ctx := context.Background()
	old, _ := PlanSetup(l3dsrSpec(vip("198.18.0.10", 0x22)), h.o)
	for _, c := range old {
		_ = h.Apply(ctx, c)
	}
	spec := l3dsrSpec(vip("198.18.0.10", 0x24))
	got, _ := PlanSetup(spec, h.o)
	if len(got) != 1 || got[0].Action != ActionReplaceTable {
		t.Fatalf("plan = %q, want one table replacement", changeLines(got))
	}
	_ = h.Apply(ctx, got[0])
	if fs := Diagnose(spec, h.o); len(fs) != 0 {
		t.Errorf("after replacing: %+v", fs)
	}
}

func TestPlanTeardownUndoesOnlyWhatIsStillOurs(t *testing.T) {
	h := freshHost()
	rec := Record{
		Addresses: []RecordedAddress{{"lo", netip.MustParsePrefix("198.18.0.10/32")}, {"lo", netip.MustParsePrefix("198.18.0.11/32")}},
		Sysctls: []RecordedSysctl{
			{Key: confKey("all", knobArpIgnore), Previous: "0", Set: "1"},
			{Key: confKey("all", knobArpAnnounce), Previous: "0", Set: "2"},
			{Key: confKey("gone0", knobRPFilter), Previous: "1", Set: "2"},
		},
		Tables: []NftTable{l3dsrTable(false), l3dsrTable(true)},
	}
	h.o.Links[0].Addrs = append(h.o.Links[0].Addrs, Addr{Prefix: netip.MustParsePrefix("198.18.0.10/32")}) // .11 already gone
	h.o.Sysctls[confKey("all", knobArpIgnore)] = "1"
	h.o.Sysctls[confKey("all", knobArpAnnounce)] = "1" // changed by someone since setup
	h.o.NftTables = []NftTable{l3dsrTable(false)}      // the ip6 table already gone

	got, kept := PlanTeardown(rec, h.o)
	want := []string{
		"ip addr del 198.18.0.10/32 dev lo",
		"nft 'delete table ip tenbin_l3dsr'",
		"sysctl -w net.ipv4.conf.all.arp_ignore=0",
	}
	if lines := changeLines(got); !slices.Equal(lines, want) {
		t.Errorf("teardown plan:\n%q\nwant\n%q", lines, want)
	}
	if len(kept) != 1 {
		t.Errorf("kept = %q, want the arp_announce someone changed", kept)
	}
}
