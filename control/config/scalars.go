package config

import (
	"math"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Readers for one value each. They take the key's name for the message, report what is wrong
// at the value's position, and return ok=false so the caller keeps its default.

func (p *parser) str(n *yaml.Node, key string) (string, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || isNull(n) {
		p.errorf(n, "%s must be a string, got %s", key, describe(n))
		return "", false
	}
	return n.Value, true
}

// name reads a name that must match re (whose source is shown to the user).
func (p *parser) name(n *yaml.Node, key string, re *regexp.Regexp) (string, bool) {
	s, ok := p.str(n, key)
	if !ok {
		return "", false
	}
	if !re.MatchString(s) {
		p.errorf(resolve(n), "%s %q must match %s", key, s, strings.Trim(re.String(), "^$"))
		return "", false
	}
	return s, true
}

func (p *parser) boolean(n *yaml.Node, key string) (bool, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		p.errorf(n, "%s must be true or false, got %s", key, describe(n))
		return false, false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		p.errorf(n, "%s must be true or false, got %s", key, describe(n))
		return false, false
	}
	return b, true
}

// integer reads an integer in lo..hi (YAML accepts 34, 0x22, 0o42).
func (p *parser) integer(n *yaml.Node, key string, lo, hi int64) (int64, bool) {
	n = resolve(n)
	var v int64
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&v) != nil {
		p.errorf(n, "%s must be an integer, got %s", key, describe(n))
		return 0, false
	}
	if v < lo || v > hi {
		p.errorf(n, "%s %s out of range %d..%d", key, n.Value, lo, hi)
		return 0, false
	}
	return v, true
}

func (p *parser) fraction(n *yaml.Node, key string) (float64, bool) {
	n = resolve(n)
	var v float64
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!float" && n.Tag != "!!int") || n.Decode(&v) != nil {
		p.errorf(n, "%s must be a number, got %s", key, describe(n))
		return 0, false
	}
	if math.IsNaN(v) || v < 0 || v > 1 {
		p.errorf(n, "%s %s out of range 0..1", key, n.Value)
		return 0, false
	}
	return v, true
}

// duration reads a Go duration with a unit ("2s", "1m30s") in lo..hi.
func (p *parser) duration(n *yaml.Node, key string, lo, hi time.Duration) (time.Duration, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || isNull(n) {
		p.errorf(n, "%s must be a duration like \"2s\", got %s", key, describe(n))
		return 0, false
	}
	if n.Tag == "!!int" && n.Value != "0" {
		p.errorf(n, "%s %s needs a unit, e.g. \"%ss\"", key, n.Value, n.Value)
		return 0, false
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil {
		p.errorf(n, "%s %q is not a duration (e.g. \"2s\", \"1m30s\")", key, n.Value)
		return 0, false
	}
	if d < lo || d > hi {
		p.errorf(n, "%s %s out of range %s..%s", key, n.Value, fmtDuration(lo), fmtDuration(hi))
		return 0, false
	}
	return d, true
}

// fmtDuration writes whole units without the zero tails of time.Duration.String: 1h, 1m30s.
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// enumValue reads one of names, suggesting the closest on a miss.
func enumValue[T enum](p *parser, n *yaml.Node, key string, names []string) (T, bool) {
	s, ok := p.str(n, key)
	if !ok {
		return 0, false
	}
	v, ok := enumParse[T](names, s)
	if !ok {
		p.errorf(resolve(n), "%s %q is not one of %s%s", key, s, enumChoices(names), didYouMean(s, names))
	}
	return v, ok
}

// addr reads a unicast IP address (no zone, no IPv4-mapped IPv6 form).
func (p *parser) addr(n *yaml.Node, key string) (netip.Addr, bool) {
	s, ok := p.str(n, key)
	if !ok {
		return netip.Addr{}, false
	}
	n = resolve(n)
	a, err := netip.ParseAddr(s)
	if err != nil {
		p.errorf(n, "%s %q is not an IP address", key, s)
		return netip.Addr{}, false
	}
	return a, p.usable(n, key, a)
}

// usable rejects addresses no host or VIP can have.
func (p *parser) usable(n *yaml.Node, key string, a netip.Addr) bool {
	switch {
	case a.Zone() != "":
		p.errorf(n, "%s %s must not have a zone", key, a)
	case a.Is4In6():
		p.errorf(n, "%s %s is IPv4-mapped; write it as %s", key, a, a.Unmap())
	case a.IsUnspecified(), a.IsMulticast(), a.IsLoopback(), a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		p.errorf(n, "%s %s is not a unicast address", key, a)
	default:
		return true
	}
	return false
}

// prefix reads "address/length" of one family; the address is kept (it is ours).
func (p *parser) prefix(n *yaml.Node, key string, want4 bool) (netip.Prefix, bool) {
	s, ok := p.str(n, key)
	if !ok {
		return netip.Prefix{}, false
	}
	n = resolve(n)
	family := "IPv6"
	if want4 {
		family = "IPv4"
	}
	if !strings.Contains(s, "/") {
		if _, err := netip.ParseAddr(s); err == nil {
			p.errorf(n, "%s %s needs a prefix length (the on-link subnet), e.g. %s/24", key, s, s)
			return netip.Prefix{}, false
		}
	}
	pfx, err := netip.ParsePrefix(s)
	if err != nil {
		p.errorf(n, "%s %q is not an %s address with prefix length", key, s, family)
		return netip.Prefix{}, false
	}
	if pfx.Addr().Is4() != want4 {
		p.errorf(n, "%s %s is not an %s address", key, s, family)
		return netip.Prefix{}, false
	}
	if !p.usable(n, key, pfx.Addr()) {
		return netip.Prefix{}, false
	}
	if want4 && pfx.Bits() <= 30 && pfx.Addr() == pfx.Masked().Addr() {
		p.errorf(n, "%s %s is the subnet itself; write this port's own address in it", key, s)
		return netip.Prefix{}, false
	}
	return pfx, true
}

// mac reads a unicast EUI-48 address.
func (p *parser) mac(n *yaml.Node, key string) (net.HardwareAddr, bool) {
	s, ok := p.str(n, key)
	if !ok {
		return nil, false
	}
	n = resolve(n)
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 {
		p.errorf(n, "%s %q is not a MAC address like 02:00:00:00:00:01", key, s)
		return nil, false
	}
	if hw[0]&1 != 0 || string(hw) == "\x00\x00\x00\x00\x00\x00" {
		p.errorf(n, "%s %s is not a unicast MAC address", key, hw)
		return nil, false
	}
	return hw, true
}

// statusRanges reads expect_status: one item or a list of items, each a code (200), a class
// ("2xx") or a range ("200-299").
func (p *parser) statusRanges(n *yaml.Node, key string) (StatusRanges, bool) {
	n = resolve(n)
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = p.sequence(n, key)
		if len(items) == 0 {
			p.errorf(n, "%s must name at least one status", key)
			return nil, false
		}
	}
	var out StatusRanges
	ok := true
	for _, item := range items {
		r, good := p.statusRange(item, key)
		ok = ok && good
		out = append(out, r)
	}
	return out, ok
}

func (p *parser) statusRange(n *yaml.Node, key string) (StatusRange, bool) {
	s, ok := p.str(n, key)
	if !ok {
		return StatusRange{}, false
	}
	var r StatusRange
	if len(s) == 3 && strings.HasSuffix(s, "xx") && s[0] >= '1' && s[0] <= '5' {
		r.Lo = int(s[0]-'0') * 100
		r.Hi = r.Lo + 99
		return r, true
	}
	loText, hiText, isRange := strings.Cut(s, "-")
	if !isRange {
		hiText = loText
	}
	var errLo, errHi error
	r.Lo, errLo = strconv.Atoi(loText)
	r.Hi, errHi = strconv.Atoi(hiText)
	if errLo != nil || errHi != nil || r.Lo > r.Hi {
		p.errorf(resolve(n), "%s %q is not a status code (200), a class (\"2xx\") or a range (\"200-299\")", key, s)
		return StatusRange{}, false
	}
	if r.Lo < 100 || r.Hi > 599 {
		p.errorf(resolve(n), "%s %s out of range 100..599", key, s)
		return StatusRange{}, false
	}
	return r, true
}
