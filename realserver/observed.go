package realserver

import (
	"net/netip"
	"strconv"
	"strings"
)

// Observed is what this server looks like now, as far as DSR cares. The kernel fills it
// (Kernel.Observe); tests write it by hand.
type Observed struct {
	Links []Link
	// Sysctls holds the IPv4 per-interface knobs DSR depends on, keyed by sysctl path
	// (net/ipv4/conf/IFACE/KNOB) for IFACE in all, default and every link.
	Sysctls map[string]string
	// NftAvailable is false when the nft tool is missing; NftTables and NftRules are then empty.
	NftAvailable bool
	NftTables    []NftTable
	NftRules     []NftRule
}

// Link is one network interface and its addresses.
type Link struct {
	Name     string
	Loopback bool
	Up       bool
	Addrs    []Addr
}

// Addr is one address on a link. Tentative and DADFailed matter for IPv6 VIPs: a VIP stuck in
// duplicate address detection does not accept traffic.
type Addr struct {
	Prefix    netip.Prefix
	Tentative bool
	DADFailed bool
}

// NftRule is the part of one nftables rule DSR cares about: where it runs and whether it maps a
// DSCP and destination to a VIP (prerouting) or exempts the VIP's replies from conntrack (output).
type NftRule struct {
	Family   string // ip or ip6
	Table    string
	Chain    string
	Hook     string // prerouting, output, ...
	Priority int
	DSCP     int        // -1 when the rule does not match on DSCP
	Daddr    netip.Addr // matched destination, if any
	SetDaddr netip.Addr // destination the rule rewrites to, if any
	Saddr    netip.Addr // matched source, if any
	Notrack  bool
}

// conntrackPriority is where conntrack hooks in; a DSCP rule must run before it so that
// conntrack never sees the RIP as the destination.
const conntrackPriority = -200

// Sysctl knobs this package reads and writes (all under net/ipv4/conf/IFACE/).
const (
	knobArpIgnore   = "arp_ignore"
	knobArpAnnounce = "arp_announce"
	knobRPFilter    = "rp_filter"
)

// confKey is the sysctl path of an IPv4 per-interface knob. Slashes, not dots, separate the
// parts because interface names may contain dots (VLANs: eth0.100).
func confKey(iface, knob string) string {
	return "net/ipv4/conf/" + iface + "/" + knob
}

// sysctlDisplay is how the sysctl tool spells a key: dotted unless a part contains a dot, in
// which case the tool takes the slash form as is.
func sysctlDisplay(key string) string {
	if strings.Contains(key, ".") {
		return key
	}
	return strings.ReplaceAll(key, "/", ".")
}

// sysctlInt reads an integer sysctl; a missing or garbled value reads as 0, the kernel default
// for every knob used here.
func (o Observed) sysctlInt(key string) int {
	v, err := strconv.Atoi(strings.TrimSpace(o.Sysctls[key]))
	if err != nil {
		return 0
	}
	return v
}

// effective is what the kernel applies on iface for arp_ignore, arp_announce and rp_filter:
// the larger of the `all` value and the interface's own.
func (o Observed) effective(iface, knob string) int {
	return max(o.sysctlInt(confKey("all", knob)), o.sysctlInt(confKey(iface, knob)))
}

func (o Observed) loopback() (Link, bool) {
	for _, l := range o.Links {
		if l.Loopback {
			return l, true
		}
	}
	return Link{}, false
}

// linkWith returns the link holding address a.
func (o Observed) linkWith(a netip.Addr) (Link, bool) {
	for _, l := range o.Links {
		for _, ad := range l.Addrs {
			if ad.Prefix.Addr() == a {
				return l, true
			}
		}
	}
	return Link{}, false
}

func (l Link) addr(a netip.Addr) (Addr, bool) {
	for _, ad := range l.Addrs {
		if ad.Prefix.Addr() == a {
			return ad, true
		}
	}
	return Addr{}, false
}
