package realserver

import (
	"context"
	"net/netip"
	"slices"
	"testing"
)

func kinds(fs []Finding) []FindingKind {
	out := make([]FindingKind, len(fs))
	for i, f := range fs {
		out[i] = f.Kind
	}
	return out
}

// setUp returns a host on which setup for spec has run.
func setUp(t *testing.T, spec Spec) *fakeHost {
	t.Helper()
	h := freshHost()
	cs, err := PlanSetup(spec, h.o)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		_ = h.Apply(context.Background(), c)
	}
	return h
}

func TestDiagnoseFreshHost(t *testing.T) {
	cases := []struct {
		spec Spec
		want []FindingKind
	}{
		{Spec{Mode: ModeL2DSR, VIPs: []VIP{vip("198.18.0.10", 0)}},
			[]FindingKind{FindingVIPMissing, FindingArpIgnore, FindingArpAnnounce}},
		{l3dsrSpec(vip("198.18.0.10", 0x22)),
			[]FindingKind{FindingVIPMissing, FindingRPFilterStrict, FindingDSCPRuleMissing, FindingTracked}},
	}
	for _, c := range cases {
		got := Diagnose(c.spec, freshHost().o)
		if !slices.Equal(kinds(got), c.want) {
			t.Errorf("%s: findings %v, want %v", c.spec.Mode, kinds(got), c.want)
		}
		for _, f := range got {
			if f.Fix == "" || f.Problem == "" {
				t.Errorf("%s: finding without problem or fix: %+v", c.spec.Mode, f)
			}
		}
	}
}

func TestDiagnoseHealthyAfterSetup(t *testing.T) {
	for _, spec := range []Spec{
		{Mode: ModeL2DSR, VIPs: []VIP{vip("198.18.0.10", 0), vip("2001:db8::10", 0)}},
		l3dsrSpec(vip("198.18.0.10", 0x22), vip("2001:db8::10", 0x22)),
	} {
		if fs := Diagnose(spec, setUp(t, spec).o); len(fs) != 0 {
			t.Errorf("%s after setup: %+v", spec.Mode, fs)
		}
	}
}

// Each fix is the command that makes the finding go away.
func TestDiagnoseFixes(t *testing.T) {
	spec := Spec{Mode: ModeL2DSR, VIPs: []VIP{vip("198.18.0.10", 0)}}
	fs := Diagnose(spec, freshHost().o)
	want := []string{"ip addr add 198.18.0.10/32 dev lo", "sysctl -w net.ipv4.conf.all.arp_ignore=1", "sysctl -w net.ipv4.conf.all.arp_announce=2"}
	for i, f := range fs {
		if f.Fix != want[i] {
			t.Errorf("fix %d = %q, want %q", i, f.Fix, want[i])
		}
	}
	l3 := l3dsrSpec(vip("198.18.0.10", 0x22))
	fs = Diagnose(l3, freshHost().o)
	if fs[1].Fix != "sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.eth0.rp_filter=2" {
		t.Errorf("rp_filter fix = %q", fs[1].Fix)
	}
	if fs[2].Fix != "nft '"+nftReplaceScript(l3dsrTable(false), desiredNftRules(l3, false))+"'" {
		t.Errorf("DSCP rule fix = %q", fs[2].Fix)
	}
}

func TestDiagnoseProblemsSetupLeftOrOthersMade(t *testing.T) {
	l2 := Spec{Mode: ModeL2DSR, VIPs: []VIP{vip("198.18.0.10", 0), vip("2001:db8::10", 0)}}
	l3 := l3dsrSpec(vip("198.18.0.10", 0x22))
	cases := []struct {
		name   string
		spec   Spec
		break_ func(o *Observed)
		want   []FindingKind
		fix    string
	}{
		{"VIP also on eth0", l2, func(o *Observed) {
			o.Links[1].Addrs = append(o.Links[1].Addrs, Addr{Prefix: netip.MustParsePrefix("198.18.0.10/24")})
		}, []FindingKind{FindingVIPConflict}, "ip addr del 198.18.0.10/24 dev eth0"},
		{"IPv6 VIP failed DAD", l2, func(o *Observed) {
			for i, a := range o.Links[0].Addrs {
				if a.Prefix.Addr().Is6() && !a.Prefix.Addr().IsLoopback() {
					o.Links[0].Addrs[i].DADFailed = true
				}
			}
		}, []FindingKind{FindingVIPNotUsable}, "ip addr del 2001:db8::10/128 dev lo && ip addr add 2001:db8::10/128 dev lo nodad"},
		{"lo down", l2, func(o *Observed) { o.Links[0].Up = false }, []FindingKind{FindingLoopbackDown}, "ip link set lo up"},
		{"arp_ignore reset on all, eth0 still 0", l2, func(o *Observed) { o.Sysctls[confKey("all", knobArpIgnore)] = "0" },
			[]FindingKind{FindingArpIgnore}, "sysctl -w net.ipv4.conf.all.arp_ignore=1"},
		{"arp_ignore reset on all but set on eth0", l2, func(o *Observed) {
			o.Sysctls[confKey("all", knobArpIgnore)] = "0"
			o.Sysctls[confKey("eth0", knobArpIgnore)] = "1"
		}, nil, ""},
		{"rp_filter strict on eth0, all loose: loose wins", l3, func(o *Observed) { o.Sysctls[confKey("eth0", knobRPFilter)] = "1" }, nil, ""},
		{"rp_filter strict on eth0, all off", l3, func(o *Observed) {
			o.Sysctls[confKey("all", knobRPFilter)] = "0"
			o.Sysctls[confKey("eth0", knobRPFilter)] = "1"
		}, []FindingKind{FindingRPFilterStrict}, "sysctl -w net.ipv4.conf.eth0.rp_filter=2"},
		{"DSCP rule maps another DSCP", l3, func(o *Observed) {
			for i := range o.NftRules {
				if o.NftRules[i].Chain == chainPre {
					o.NftRules[i].DSCP = 0x24
				}
			}
		}, []FindingKind{FindingDSCPMismatch}, ""},
		{"DSCP rule after conntrack", l3, func(o *Observed) {
			for i := range o.NftRules {
				if o.NftRules[i].Chain == chainPre {
					o.NftRules[i].Priority = 0
				}
			}
		}, []FindingKind{FindingDSCPRuleMissing}, ""},
		{"tables flushed", l3, func(o *Observed) { o.NftRules, o.NftTables = nil, nil },
			[]FindingKind{FindingDSCPRuleMissing, FindingTracked}, ""},
		{"RIPs removed", l3, func(o *Observed) { o.Links[1].Addrs = nil }, []FindingKind{FindingRIPMissing, FindingRIPMissing}, ""},
		{"nft uninstalled", l3, func(o *Observed) { o.NftAvailable, o.NftRules = false, nil }, []FindingKind{FindingNftMissing}, "apt-get install nftables"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := setUp(t, c.spec)
			c.break_(&h.o)
			fs := Diagnose(c.spec, h.o)
			if !slices.Equal(kinds(fs), c.want) {
				t.Fatalf("findings %+v, want %v", fs, c.want)
			}
			if c.fix != "" && fs[0].Fix != c.fix {
				t.Errorf("fix = %q, want %q", fs[0].Fix, c.fix)
			}
		})
	}
}
