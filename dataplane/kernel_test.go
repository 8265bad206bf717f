package dataplane

import (
	"bytes"
	"testing"

	"github.com/google/gopacket/layers"
)

// kernelFrames are the frames a port with a kernel tap gives the host stack instead of
// dropping them, each with the drop reason it gets on a port without one.
func kernelFrames() []struct {
	name, drop string
	in         []byte
} {
	host4 := mustAddr("198.18.0.7") // the host's own address on the tap, no VIP
	lldp := ether(macClient, macPort0)
	lldp[0].(*layers.Ethernet).EthernetType = layers.EthernetTypeLinkLayerDiscovery
	return []struct {
		name, drop string
		in         []byte
	}{
		{"tcp-syn-to-host", "no_vip", build(ether(macClient, macPort0), ip4(client4, host4), tcp(40000, 22, "S"))},
		{"tcp-to-vip-other-port", "no_vip", build(ether(macClient, macPort0), ip4(client4, vipL2v4), tcp(40000, 22, "S"))},
		{"udp-to-host", "no_vip", build(ether(macClient, macPort0), ip4(client4, host4), udp(40000, 53), payload("query"))},
		{"tcp-v6-to-host", "no_vip", build(ether(macClient, macPort0), ip6(client6, mustAddr("2001:db8::7")), tcp(40000, 22, "S"))},
		{"echo-to-host", "no_vip", build(ether(macClient, macPort0), ip4(client4, host4),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 7, Seq: 1}, payload("ping"))},
		{"arp-for-host", "not_for_us", arpRequest(client4, macClient, host4)},
		{"ns-for-host", "not_for_us", nsFrame(client6, macClient, mustAddr("2001:db8::7"))},
		{"later-fragment-to-host", "fragment", frag4(host4, 0, 3, false)},
		{"lldp", "non_ip", build(lldp, payload("lldp frame"))},
	}
}

// TestKernelPort: on a port with a kernel tap, what is no VIP's goes to the kernel
// unchanged and counts as kernel_pkts; on a port without one it drops as before; VIP
// traffic and malformed frames are not affected by the tap.
func TestKernelPort(t *testing.T) {
	t.Run("without", func(t *testing.T) {
		e := newEnv(t, topology())
		for _, k := range kernelFrames() {
			t.Run(k.name, func(t *testing.T) { runFixture(t, e, fixture{in: k.in, drop: k.drop}) })
		}
	})
	t.Run("with", func(t *testing.T) {
		e := newEnv(t, topology())
		e.h.SetKernelPorts(0)
		for _, k := range kernelFrames() {
			t.Run(k.name, func(t *testing.T) {
				runFixture(t, e, fixture{in: k.in, verdict: VerdictKernel})
				if got := e.process(k.in, 0); !bytes.Equal(got.Out, k.in) {
					t.Errorf("the kernel got a changed frame:\n want % x\n  got % x", k.in, got.Out)
				}
			})
		}
	})
	t.Run("with/other-port", func(t *testing.T) {
		e := newEnv(t, topology())
		e.h.SetKernelPorts(0)
		runFixture(t, e, fixture{in: build(ether(macClient, macPort1), ip4(client4, mustAddr("198.19.0.7")), tcp(40000, 22, "S")),
			inPort: 1, drop: "no_vip"})
	})
	t.Run("with/unchanged", func(t *testing.T) {
		e := newEnv(t, topology())
		e.h.SetKernelPorts(0)
		runFixtures(t, e, []fixture{{
			name:     "vip-still-balanced",
			in:       build(ether(macClient, macPort0), ip4(client4, vipL2v4), tcp(41000, 80, "S")),
			want:     build(ether(macPort0, macRS1), ip4(client4, vipL2v4), tcp(41000, 80, "S")),
			counters: map[string]uint64{"flow_new": 1},
		}, {
			name:     "arp-for-vip-answered",
			in:       arpRequest(client4, macClient, vipL2v4),
			want:     arpReply(vipL2v4, macPort0, client4, macClient),
			counters: map[string]uint64{"arp_replies": 1},
		}, {
			name: "malformed-still-drops",
			in:   mutate(build(ether(macClient, macPort0), ip4(client4, mustAddr("198.18.0.7")), tcp(1, 22, "S")), func(f []byte) { f[l3] = 0x55 }),
			drop: "bad_ip_version",
		}, {
			name: "echo-to-silent-vip-still-drops",
			in: build(ether(macClient, macPort0), ip4(client4, vipEmptyv4),
				&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 1, Seq: 1}, payload("ping")),
			drop: "not_for_us",
		}, {
			name: "later-fragment-to-vip-still-drops",
			in:   frag4(vipL2v4, 0, 3, false),
			drop: "fragment",
		}})
	})
	t.Run("with/no-config", func(t *testing.T) {
		e := newEnv(t, nil)
		e.h.SetKernelPorts(0)
		runFixture(t, e, fixture{in: build(ether(macClient, macPort0), ip4(client4, vipL2v4), tcp(1, 80, "S")), verdict: VerdictKernel})
	})
}
