package realserver

import (
	"net/netip"
	"os"
	"testing"
)

func l3dsrSpec(vips ...VIP) Spec {
	return Spec{Mode: ModeL3DSR, VIPs: vips, RIPs: []netip.Addr{netip.MustParseAddr("198.18.1.2"), netip.MustParseAddr("2001:db8:1::2")}}
}

func vip(s string, dscp uint8) VIP { return VIP{Addr: netip.MustParseAddr(s), DSCP: dscp} }

// The script must build the ruleset verified on this kernel (issue 8): DSCP and RIP mapped back
// to the VIP and notrack in a raw prerouting chain, notrack for the VIP's replies on output.
func TestNftReplaceScriptIsTheVerifiedRuleset(t *testing.T) {
	spec := l3dsrSpec(vip("198.18.0.10", 0x22))
	got := nftReplaceScript(l3dsrTable(false), desiredNftRules(spec, false))
	want := "add table ip tenbin_l3dsr; delete table ip tenbin_l3dsr; table ip tenbin_l3dsr {" +
		" chain pre { type filter hook prerouting priority raw; policy accept; ip dscp 0x22 ip daddr 198.18.1.2 ip daddr set 198.18.0.10 notrack; };" +
		" chain out { type filter hook output priority raw; policy accept; ip saddr 198.18.0.10 notrack; }; }"
	if got != want {
		t.Errorf("script:\n got %s\nwant %s", got, want)
	}

	spec = l3dsrSpec(vip("2001:db8::11", 0x24), vip("2001:db8::10", 0x22), vip("198.18.0.10", 0x22))
	got = nftReplaceScript(l3dsrTable(true), desiredNftRules(spec, true))
	want = "add table ip6 tenbin_l3dsr6; delete table ip6 tenbin_l3dsr6; table ip6 tenbin_l3dsr6 {" +
		" chain pre { type filter hook prerouting priority raw; policy accept;" +
		" ip6 dscp 0x22 ip6 daddr 2001:db8:1::2 ip6 daddr set 2001:db8::10 notrack;" +
		" ip6 dscp 0x24 ip6 daddr 2001:db8:1::2 ip6 daddr set 2001:db8::11 notrack; };" +
		" chain out { type filter hook output priority raw; policy accept; ip6 saddr 2001:db8::10 notrack; ip6 saddr 2001:db8::11 notrack; }; }"
	if got != want {
		t.Errorf("IPv6 script (one rule per VIP, sorted, IPv4 VIP left out):\n got %s\nwant %s", got, want)
	}
}

// The fixtures are `nft -j [-n] list ruleset` on this kernel after applying our script for two
// IPv4 VIPs plus a foreign ip6 table: a DSCP rule at priority -250, a rule narrowed by iifname,
// and a NAT chain.
func TestParseNftJSON(t *testing.T) {
	for _, file := range []string{"testdata/nft-list-ruleset-numeric.json", "testdata/nft-list-ruleset-symbolic.json"} {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			tables, rules, err := parseNftJSON(data)
			if err != nil {
				t.Fatal(err)
			}
			if len(tables) != 2 || tables[0] != (NftTable{"ip", "tenbin_l3dsr"}) || tables[1] != (NftTable{"ip6", "other"}) {
				t.Errorf("tables = %v", tables)
			}
			spec := l3dsrSpec(vip("198.18.0.10", 0x22), vip("198.18.0.11", 0x24))
			if ours := rulesIn(rules, l3dsrTable(false)); !sameRules(ours, desiredNftRules(spec, false)) {
				t.Errorf("our table read back as\n%+v\nwant\n%+v", ours, desiredNftRules(spec, false))
			}
			other := rulesIn(rules, NftTable{"ip6", "other"})
			if len(other) != 3 {
				t.Fatalf("foreign table rules = %+v, want 3", other)
			}
			want := NftRule{Family: "ip6", Table: "other", Chain: "pre", Hook: "prerouting", Priority: -250, DSCP: 0x2e,
				Daddr: netip.MustParseAddr("2001:db8:1::2"), SetDaddr: netip.MustParseAddr("2001:db8::10"), Notrack: true}
			if other[0] != want {
				t.Errorf("foreign DSCP rule = %+v\nwant %+v", other[0], want)
			}
			if other[1].Hook == "prerouting" || other[2].Hook == "postrouting" {
				t.Errorf("rules with conditions not modelled (iifname, masquerade) must not pass for DSR rules: %+v, %+v", other[1], other[2])
			}
		})
	}
}

func TestSameRulesIgnoresOrderNotContent(t *testing.T) {
	spec := l3dsrSpec(vip("198.18.0.10", 0x22), vip("198.18.0.11", 0x24))
	a := desiredNftRules(spec, false)
	b := []NftRule{a[3], a[1], a[2], a[0]}
	if !sameRules(a, b) {
		t.Error("reordered ruleset compared different")
	}
	b[1].DSCP = 0x26
	if sameRules(a, b) {
		t.Error("ruleset with another DSCP compared equal")
	}
	if sameRules(a, a[:3]) {
		t.Error("ruleset missing a rule compared equal")
	}
}
