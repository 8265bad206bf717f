package dataplane

import (
	"testing"

	"github.com/google/gopacket/layers"
)

// withTOS sets an IPv4 header's TOS byte and TTL.
func withTOS(ip *layers.IPv4, tos, ttl uint8) *layers.IPv4 { ip.TOS, ip.TTL = tos, ttl; return ip }

func withTC(ip *layers.IPv6, tc, hop uint8) *layers.IPv6 {
	ip.TrafficClass, ip.HopLimit = tc, hop
	return ip
}

// zeroUDPCsum clears the UDP checksum of a frame built without extension headers.
func zeroUDPCsum(f []byte) []byte {
	i := 12
	for f[i] == 0x81 || f[i] == 0x88 {
		i += 4
	}
	l3 := i + 2
	l4 := l3 + int(f[l3]&0xf)*4
	if f[i] == 0x86 {
		l4 = l3 + 40
	}
	f[l4+6], f[l4+7] = 0, 0
	return f
}

var (
	hbhPad  = &rawExt{proto: layers.IPProtocolIPv6HopByHop, b: []byte{60, 0, 1, 4, 0, 0, 0, 0}}
	dstOpts = &rawExt{proto: layers.IPProtocolIPv6Destination, b: []byte{6, 0, 1, 4, 0, 0, 0, 0}}
)

func TestL2DSR(t *testing.T) {
	e := newEnv(t, topology())
	runFixtures(t, e, []fixture{{
		name:     "v4/tcp/untagged",
		in:       build(ether(macClient, macPort0), ip4(client4, vipL2v4), tcp(40000, 80, "S"), payload("GET /")),
		want:     build(ether(macPort0, macRS1), ip4(client4, vipL2v4), tcp(40000, 80, "S"), payload("GET /")),
		counters: map[string]uint64{"flow_new": 1},
	}, {
		name:     "v4/tcp/hit",
		in:       build(ether(macClient, macPort0), ip4(client4, vipL2v4), tcp(40000, 80, "A"), payload("GET /")),
		want:     build(ether(macPort0, macRS1), ip4(client4, vipL2v4), tcp(40000, 80, "A"), payload("GET /")),
		counters: map[string]uint64{"flow_hit": 1},
	}, {
		name:     "v4/tcp/tagged-in-untagged-out",
		in:       build(ether(macClient, macPort0, 100), ip4(client4, vipL2v4), tcp(40001, 80, "S")),
		want:     build(ether(macPort0, macRS1), ip4(client4, vipL2v4), tcp(40001, 80, "S")),
		counters: map[string]uint64{"flow_new": 1},
	}, {
		name: "v4/tcp/qinq-in-untagged-out",
		in:   build(ether(macClient, macPort0, 10, 100), ip4(client4, vipL2v4), tcp(40002, 80, "S")),
		want: build(ether(macPort0, macRS1), ip4(client4, vipL2v4), tcp(40002, 80, "S")),
	}, {
		name:    "v4/tcp/untagged-in-tagged-out-port1",
		in:      build(ether(macClient, macPort0), ip4(client4, vipVLANv4), tcp(40003, 80, "S")),
		want:    build(ether(macPort1, macRS2, 300), ip4(client4, vipVLANv4), tcp(40003, 80, "S")),
		outPort: 1,
	}, {
		name:    "v4/tcp/qinq-in-tagged-out",
		in:      build(ether(macClient, macPort0, 10, 100), ip4(client4, vipVLANv4), tcp(40004, 80, "S")),
		want:    build(ether(macPort1, macRS2, 300), ip4(client4, vipVLANv4), tcp(40004, 80, "S")),
		outPort: 1,
	}, {
		name:    "v4/tcp/retag",
		in:      build(ether(macClient, macPort0, 100), ip4(client4, vipVLANv4), tcp(40005, 80, "S")),
		want:    build(ether(macPort1, macRS2, 300), ip4(client4, vipVLANv4), tcp(40005, 80, "S")),
		outPort: 1,
	}, {
		name: "v4/udp",
		in:   build(ether(macClient, macPort0), ip4(client4, vipL2v4), udp(5353, 53), payload("query")),
		want: build(ether(macPort0, macRS1), ip4(client4, vipL2v4), udp(5353, 53), payload("query")),
	}, {
		name: "v4/udp/all-ports-vip",
		in:   build(ether(macClient, macPort0), ip4(client4, vipAnyv4), udp(5353, 9999), payload("x")),
		want: build(ether(macPort0, macRS1), ip4(client4, vipAnyv4), udp(5353, 9999), payload("x")),
	}, {
		name:     "v6/tcp/untagged",
		in:       build(ether(macClient, macPort0), ip6(client6, vipL2v6), tcp(40000, 80, "S"), payload("GET /")),
		want:     build(ether(macPort0, macRS1), ip6(client6, vipL2v6), tcp(40000, 80, "S"), payload("GET /")),
		counters: map[string]uint64{"flow_new": 1},
	}, {
		name: "v6/tcp/tagged",
		in:   build(ether(macClient, macPort0, 100), ip6(client6, vipL2v6), tcp(40001, 80, "S")),
		want: build(ether(macPort0, macRS1), ip6(client6, vipL2v6), tcp(40001, 80, "S")),
	}, {
		name: "v6/tcp/qinq",
		in:   build(ether(macClient, macPort0, 10, 100), ip6(client6, vipL2v6), tcp(40002, 80, "S")),
		want: build(ether(macPort0, macRS1), ip6(client6, vipL2v6), tcp(40002, 80, "S")),
	}})
}

func TestL3DSR(t *testing.T) {
	e := newEnv(t, topology())
	runFixtures(t, e, []fixture{{
		name:     "v4/tcp",
		in:       build(ether(macClient, macPort0), withTOS(ip4(client4, vipL3v4), 0x01, 64), tcp(40000, 80, "S"), payload("GET /")),
		want:     build(ether(macPort0, macRouter), withTOS(ip4(client4, rsL3v4), dscpL3<<2|0x01, 63), tcp(40000, 80, "S"), payload("GET /")),
		counters: map[string]uint64{"flow_new": 1},
	}, {
		name: "v4/tcp/tagged",
		in:   build(ether(macClient, macPort0, 100), withTOS(ip4(client4, vipL3v4), 0xfe, 9), tcp(40001, 80, "SA")),
		want: build(ether(macPort0, macRouter), withTOS(ip4(client4, rsL3v4), dscpL3<<2|0x02, 8), tcp(40001, 80, "SA")),
	}, {
		name: "v4/tcp/qinq",
		in:   build(ether(macClient, macPort0, 10, 100), ip4(client4, vipL3v4), tcp(40002, 80, "S")),
		want: build(ether(macPort0, macRouter), withTOS(ip4(client4, rsL3v4), dscpL3<<2, 63), tcp(40002, 80, "S")),
	}, {
		name: "v4/tcp/ip-options",
		in: build(ether(macClient, macPort0), func() *layers.IPv4 {
			ip := ip4(client4, vipL3v4)
			ip.Options = []layers.IPv4Option{{OptionType: 148, OptionLength: 4, OptionData: []byte{0, 0}}}
			return ip
		}(), tcp(40003, 80, "S")),
		want: build(ether(macPort0, macRouter), func() *layers.IPv4 {
			ip := withTOS(ip4(client4, rsL3v4), dscpL3<<2, 63)
			ip.Options = []layers.IPv4Option{{OptionType: 148, OptionLength: 4, OptionData: []byte{0, 0}}}
			return ip
		}(), tcp(40003, 80, "S")),
	}, {
		name: "v4/udp",
		in:   build(ether(macClient, macPort0), ip4(client4, vipL3v4), udp(5353, 53), payload("query")),
		want: build(ether(macPort0, macRouter), withTOS(ip4(client4, rsL3v4), dscpL3<<2, 63), udp(5353, 53), payload("query")),
	}, {
		name: "v4/udp/no-checksum-stays-zero",
		in:   zeroUDPCsum(build(ether(macClient, macPort0), ip4(client4, vipL3v4), udp(5354, 53), payload("query"))),
		want: zeroUDPCsum(build(ether(macPort0, macRouter), withTOS(ip4(client4, rsL3v4), dscpL3<<2, 63), udp(5354, 53), payload("query"))),
	}, {
		name:     "v6/tcp",
		in:       build(ether(macClient, macPort0), withTC(ip6(client6, vipL3v6), 0x01, 64), tcp(40000, 80, "S"), payload("GET /")),
		want:     build(ether(macPort0, macRouter6), withTC(ip6(client6, rsL3v6), dscpL3<<2|0x01, 63), tcp(40000, 80, "S"), payload("GET /")),
		counters: map[string]uint64{"flow_new": 1},
	}, {
		name: "v6/tcp/tagged",
		in:   build(ether(macClient, macPort0, 100), withTC(ip6(client6, vipL3v6), 0xff, 2), tcp(40001, 80, "S")),
		want: build(ether(macPort0, macRouter6), withTC(ip6(client6, rsL3v6), dscpL3<<2|0x03, 1), tcp(40001, 80, "S")),
	}, {
		name: "v6/udp",
		in:   build(ether(macClient, macPort0), ip6(client6, vipL3v6), udp(5353, 53), payload("query")),
		want: build(ether(macPort0, macRouter6), withTC(ip6(client6, rsL3v6), dscpL3<<2, 63), udp(5353, 53), payload("query")),
	}, {
		name: "v6/tcp/extension-headers",
		in:   build(ether(macClient, macPort0), ip6(client6, vipL3v6), hbhPad, dstOpts, tcp(40002, 80, "S")),
		want: build(ether(macPort0, macRouter6), withTC(ip6(client6, rsL3v6), dscpL3<<2, 63), hbhPad, dstOpts, tcp(40002, 80, "S")),
	}})
}
