package dataplane

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// BenchmarkNAT drives nat/fnat through the harness (one cgo call per packet, as
// BenchmarkProcess does): a connection's forward and reply packets, replies on the lcore
// that owns the connection and on the other one, and new fnat connections (conn/s).
func BenchmarkNAT(b *testing.B) {
	open := func(b *testing.B, e *env, vip netip.Addr) {
		if r := e.process(toVIP(client4, vip, tcp(40000, 80, "S")), 0); r.Verdict != VerdictTX {
			b.Fatalf("SYN: %v %s", r.Verdict, r.Drop)
		}
	}
	fwd := func(vip netip.Addr) []byte {
		return toVIP(client4, vip, tcp(40000, 80, "A"), payload("0123456789"))
	}
	natReply := build(ether(macRS1, macPort0), ipFor(rs1v4, client4, 64), tcp(rsPort, 40000, "A"), payload("0123456789"))
	fnatReply := build(ether(macRS2, macPort0), ipFor(rs2v4, local4, 64), tcp(rsPort, firstPort, "A"), payload("0123456789"))

	for _, c := range []struct {
		name  string
		vip   netip.Addr
		frame []byte
		slot  int
	}{
		{"nat-forward", vipNAT4, fwd(vipNAT4), 0},
		{"nat-reply", vipNAT4, natReply, 0},
		{"nat-reply-other-lcore", vipNAT4, natReply, 1},
		{"fnat-forward", vipFNAT4, fwd(vipFNAT4), 0},
		{"fnat-reply", vipFNAT4, fnatReply, 0},
		{"fnat-reply-other-lcore", vipFNAT4, fnatReply, 1},
	} {
		b.Run(c.name, func(b *testing.B) {
			e := newEnv(b, natTopology())
			open(b, e, c.vip)
			h := e.h
			if c.slot != 0 {
				var err error
				if h, err = NewHarness(e.region, c.slot); err != nil {
					b.Fatal(err)
				}
				defer h.Close()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if v := h.Run(c.frame, 0, e.now); v != VerdictTX {
					b.Fatalf("packet %d: %v", i, v)
				}
			}
		})
	}
	b.Run("fnat-new-connections", func(b *testing.B) {
		d := natTopology()
		for i := range d.Services {
			if d.Services[i].Name == "fnat4" { // 4 local addresses: 4 × 32k ports on this lcore
				d.Services[i].LocalAddrs = append(d.Services[i].LocalAddrs, local4b,
					netip.MustParseAddr("198.18.0.202"), netip.MustParseAddr("198.18.0.203"))
			}
		}
		e := newEnv(b, d, withFlowEntries(1<<20))
		f := toVIP(client4, vipFNAT4, tcp(40000, 80, "S"))
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			// a new client address and port per packet (the L4 checksum is not checked here)
			binary.BigEndian.PutUint16(f[l3+14:], uint16(i>>16))
			binary.BigEndian.PutUint16(f[l3+20:], uint16(i))
			fixIPv4Csum(f)
			if i%(1<<16) == 0 {
				e.now += 61_000 // past the SYN timeout: old connections give their ports back
			}
			if v := e.h.Run(f, 0, e.now); v != VerdictTX {
				b.Fatalf("connection %d: %v", i, v)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "conn/s")
	})
}
