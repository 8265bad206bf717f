package realserver

import (
	"fmt"
	"strconv"
)

// PlanSetup computes the changes that bring a host looking like o to spec. It changes nothing
// that is already right, so running setup twice plans nothing the second time. Order matters:
// ARP sysctls go before the VIP is added to lo, so the server never answers ARP for the VIP,
// not even for a moment.
func PlanSetup(spec Spec, o Observed) ([]Change, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	lo, ok := o.loopback()
	if !ok {
		return nil, ErrNoLoopback
	}
	var changes []Change
	setAtLeast := func(key string, want int) {
		cur, known := o.Sysctls[key]
		if known && o.sysctlInt(key) < want {
			changes = append(changes, Change{Action: ActionSetSysctl, Key: key, From: cur, To: strconv.Itoa(want)})
		}
	}
	setExactly := func(key string, want int) {
		cur, known := o.Sysctls[key]
		if known && o.sysctlInt(key) != want {
			changes = append(changes, Change{Action: ActionSetSysctl, Key: key, From: cur, To: strconv.Itoa(want)})
		}
	}

	switch spec.Mode {
	case ModeL2DSR:
		// arp_ignore=1: answer ARP only for addresses on the interface asked; arp_announce=2:
		// never use the VIP as ARP sender address. IPv6 needs nothing: Linux answers neighbour
		// solicitations only for addresses on the interface they arrive on.
		if spec.hasIPv4VIP() {
			for _, iface := range []string{"all", "default", lo.Name} {
				setAtLeast(confKey(iface, knobArpIgnore), 1)
				setExactly(confKey(iface, knobArpAnnounce), 2)
			}
		}
	case ModeL3DSR:
		for _, rip := range spec.RIPs {
			link, ok := o.linkWith(rip)
			if !ok {
				return nil, fmt.Errorf("%w: %s", ErrRIPNotLocal, rip)
			}
			if rip.Is4() {
				// Strict rp_filter (1) drops requests whose client is routed out another
				// interface, as DSR return paths often are; loose (2) still drops spoofed junk.
				for _, iface := range []string{"all", link.Name} {
					if o.sysctlInt(confKey(iface, knobRPFilter)) == 1 {
						setExactly(confKey(iface, knobRPFilter), 2)
					}
				}
			}
		}
		for _, v6 := range []bool{false, true} {
			want := desiredNftRules(spec, v6)
			if len(want) == 0 {
				continue
			}
			if !o.NftAvailable {
				return nil, ErrNftMissing
			}
			t := l3dsrTable(v6)
			if !sameRules(rulesIn(o.NftRules, t), want) {
				changes = append(changes, Change{Action: ActionReplaceTable, Table: t, Script: nftReplaceScript(t, want), rules: want})
			}
		}
	}

	for _, v := range sortedVIPs(spec.VIPs) {
		if _, on := lo.addr(v.Addr); !on {
			changes = append(changes, Change{Action: ActionAddAddress, Dev: lo.Name, Prefix: hostPrefix(v.Addr), NoDAD: v.Addr.Is6()})
		}
	}
	return changes, nil
}

// PlanTeardown computes the changes that undo rec on a host looking like o, in the reverse
// order of setup. What is already gone is skipped; a sysctl someone changed since setup is left
// alone and reported in kept.
func PlanTeardown(rec Record, o Observed) (changes []Change, kept []string) {
	for _, a := range rec.Addresses {
		for _, l := range o.Links {
			if _, on := l.addr(a.Prefix.Addr()); on && l.Name == a.Dev {
				changes = append(changes, Change{Action: ActionDeleteAddress, Dev: a.Dev, Prefix: a.Prefix})
			}
		}
	}
	for _, t := range rec.Tables {
		if tablePresent(o, t) {
			changes = append(changes, Change{Action: ActionDeleteTable, Table: t, Script: nftDeleteScript(t)})
		}
	}
	for i := len(rec.Sysctls) - 1; i >= 0; i-- {
		s := rec.Sysctls[i]
		cur, known := o.Sysctls[s.Key]
		switch {
		case !known:
			// The interface is gone; nothing to restore.
		case cur != s.Set:
			kept = append(kept, fmt.Sprintf("%s is %s, not the %s setup wrote; left as is (was %s before setup)",
				sysctlDisplay(s.Key), cur, s.Set, s.Previous))
		default:
			changes = append(changes, Change{Action: ActionSetSysctl, Key: s.Key, From: cur, To: s.Previous})
		}
	}
	return changes, kept
}
