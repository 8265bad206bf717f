package realserver

import (
	"fmt"
	"strings"
)

// FindingKind names a class of problem, stable for scripts and tests.
type FindingKind string

const (
	FindingLoopbackMissing FindingKind = "loopback-missing"
	FindingLoopbackDown    FindingKind = "loopback-down"
	FindingVIPMissing      FindingKind = "vip-missing"
	FindingVIPNotUsable    FindingKind = "vip-dad"
	FindingVIPConflict     FindingKind = "vip-on-interface"
	FindingArpIgnore       FindingKind = "arp-ignore"
	FindingArpAnnounce     FindingKind = "arp-announce"
	FindingRIPMissing      FindingKind = "rip-missing"
	FindingRPFilterStrict  FindingKind = "rp-filter-strict"
	FindingNftMissing      FindingKind = "nft-missing"
	FindingDSCPRuleMissing FindingKind = "dscp-rule-missing"
	FindingDSCPMismatch    FindingKind = "dscp-rule-mismatch"
	FindingTracked         FindingKind = "notrack-missing"
)

// Finding is one problem and the command that fixes it.
type Finding struct {
	Kind    FindingKind `json:"kind"`
	Problem string      `json:"problem"`
	Fix     string      `json:"fix"`
}

// Diagnose lists what keeps a host looking like o from serving spec's VIPs by DSR. No findings
// means healthy.
func Diagnose(spec Spec, o Observed) []Finding {
	var fs []Finding
	add := func(k FindingKind, fix, format string, a ...any) {
		fs = append(fs, Finding{Kind: k, Problem: fmt.Sprintf(format, a...), Fix: fix})
	}
	lo, ok := o.loopback()
	if !ok {
		add(FindingLoopbackMissing, "ip link add lo type loopback", "no loopback interface")
		return fs
	}
	if !lo.Up {
		add(FindingLoopbackDown, "ip link set "+lo.Name+" up", "%s is down: nothing on it, VIPs included, accepts traffic", lo.Name)
	}

	for _, v := range sortedVIPs(spec.VIPs) {
		p := hostPrefix(v.Addr)
		a, on := lo.addr(v.Addr)
		switch {
		case !on:
			add(FindingVIPMissing, (Change{Action: ActionAddAddress, Dev: lo.Name, Prefix: p, NoDAD: v.Addr.Is6()}).String(),
				"VIP %s is not on %s: the server drops the balancer's packets for it", v.Addr, lo.Name)
		case a.DADFailed || a.Tentative:
			add(FindingVIPNotUsable, fmt.Sprintf("ip addr del %s dev %s && ip addr add %s dev %s nodad", a.Prefix, lo.Name, p, lo.Name),
				"VIP %s on %s is stuck in duplicate address detection and accepts no traffic", v.Addr, lo.Name)
		}
		for _, l := range o.Links {
			if l.Loopback {
				continue
			}
			if a, on := l.addr(v.Addr); on {
				add(FindingVIPConflict, (Change{Action: ActionDeleteAddress, Dev: l.Name, Prefix: a.Prefix}).String(),
					"VIP %s is also on %s: this server answers ARP/NDP for it and steals the balancer's traffic", v.Addr, l.Name)
			}
		}
	}

	switch spec.Mode {
	case ModeL2DSR:
		if spec.hasIPv4VIP() {
			fs = append(fs, diagnoseARP(o)...)
		}
	case ModeL3DSR:
		fs = append(fs, diagnoseL3DSR(spec, o)...)
	}
	return fs
}

// diagnoseARP checks the ARP knobs as the kernel applies them: on each interface facing the
// network (lo never answers ARP), the larger of `all` and the interface's own value.
func diagnoseARP(o Observed) []Finding {
	var ignoreBad, announceBad []string
	ifaces := []string{}
	for _, l := range o.Links {
		if !l.Loopback {
			ifaces = append(ifaces, l.Name)
		}
	}
	if len(ifaces) == 0 {
		ifaces = []string{"all"}
	}
	for _, name := range ifaces {
		if o.effective(name, knobArpIgnore) < 1 {
			ignoreBad = append(ignoreBad, name)
		}
		if o.effective(name, knobArpAnnounce) != 2 {
			announceBad = append(announceBad, name)
		}
	}
	var fs []Finding
	if len(ignoreBad) > 0 {
		fs = append(fs, Finding{Kind: FindingArpIgnore,
			Problem: fmt.Sprintf("arp_ignore is 0 on %s: the server answers ARP for the VIP on lo and steals the balancer's traffic", strings.Join(ignoreBad, ", ")),
			Fix:     "sysctl -w " + sysctlDisplay(confKey("all", knobArpIgnore)) + "=1"})
	}
	if len(announceBad) > 0 {
		fs = append(fs, Finding{Kind: FindingArpAnnounce,
			Problem: fmt.Sprintf("arp_announce is not 2 on %s: the server may announce the VIP as its ARP sender address", strings.Join(announceBad, ", ")),
			Fix:     "sysctl -w " + sysctlDisplay(confKey("all", knobArpAnnounce)) + "=2"})
	}
	return fs
}

func diagnoseL3DSR(spec Spec, o Observed) []Finding {
	var fs []Finding
	add := func(k FindingKind, fix, format string, a ...any) {
		fs = append(fs, Finding{Kind: k, Problem: fmt.Sprintf(format, a...), Fix: fix})
	}
	for _, rip := range spec.RIPs {
		link, ok := o.linkWith(rip)
		if !ok {
			add(FindingRIPMissing, fmt.Sprintf("ip addr add %s/PREFIXLEN dev IFACE_TOWARD_BALANCER", rip),
				"RIP %s is not an address of this server: the balancer's packets never arrive", rip)
			continue
		}
		if rip.Is4() && o.effective(link.Name, knobRPFilter) == 1 {
			var keys []string
			for _, iface := range []string{"all", link.Name} {
				if o.sysctlInt(confKey(iface, knobRPFilter)) == 1 {
					keys = append(keys, sysctlDisplay(confKey(iface, knobRPFilter))+"=2")
				}
			}
			add(FindingRPFilterStrict, "sysctl -w "+strings.Join(keys, " "),
				"rp_filter is strict on %s (toward the balancer): requests from clients routed out another interface are dropped", link.Name)
		}
	}
	if !o.NftAvailable {
		add(FindingNftMissing, "apt-get install nftables", "nft is not installed: the DSCP rule cannot be read or written")
		return fs
	}
	for _, v6 := range []bool{false, true} {
		want := desiredNftRules(spec, v6)
		if len(want) == 0 {
			continue
		}
		fix := (Change{Action: ActionReplaceTable, Script: nftReplaceScript(l3dsrTable(v6), want)}).String()
		for _, w := range want {
			switch w.Chain {
			case chainPre:
				found, other := findDSCPRule(o.NftRules, w)
				switch {
				case found:
				case other >= 0:
					add(FindingDSCPMismatch, fix, "the rule for VIP %s matches dscp %#02x, but the balancer marks it %#02x: its packets are not mapped back",
						w.SetDaddr, other, w.DSCP)
				default:
					add(FindingDSCPRuleMissing, fix, "no nftables rule maps dscp %#02x to %s back to VIP %s: the balancer's packets for it are not accepted",
						w.DSCP, w.Daddr, w.SetDaddr)
				}
			case chainOut:
				if !hasNotrack(o.NftRules, w) {
					add(FindingTracked, fix, "replies from VIP %s pass conntrack, which never saw the request and may drop them as invalid", w.Saddr)
				}
			}
		}
	}
	return fs
}

// findDSCPRule looks, in any table, for a prerouting rule running before conntrack that maps
// w's (DSCP, RIP) to w's VIP. If only the DSCP differs, other is the DSCP it matches instead.
func findDSCPRule(rules []NftRule, w NftRule) (found bool, other int) {
	other = -1
	for _, r := range rules {
		if r.Family != w.Family || r.Hook != "prerouting" || r.Priority >= conntrackPriority || r.SetDaddr != w.SetDaddr || r.Daddr != w.Daddr {
			continue
		}
		if r.DSCP == w.DSCP {
			return true, -1
		}
		other = r.DSCP
	}
	return false, other
}

func hasNotrack(rules []NftRule, w NftRule) bool {
	for _, r := range rules {
		if r.Family == w.Family && r.Hook == "output" && r.Priority < conntrackPriority && r.Saddr == w.Saddr && r.Notrack && r.DSCP < 0 && !r.Daddr.IsValid() {
			return true
		}
	}
	return false
}
