package dataplane

import (
	"encoding/binary"
	"testing"
)

// BenchmarkProcess drives tenbin_process through the harness, one cgo call per packet
// (that call costs tens of ns: bench/fastpath measures the C path alone, in bursts).
func BenchmarkProcess(b *testing.B) {
	b.Run("l2dsr-hit", func(b *testing.B) {
		e := newEnv(b, topology())
		f := build(ether(macClient, macPort0), ip4(client4, vipPoolv4), tcp(40000, 80, "A"), payload("0123456789"))
		benchFrames(b, e, func(int) []byte { return f })
	})
	b.Run("l3dsr-hit", func(b *testing.B) {
		e := newEnv(b, topology())
		f := build(ether(macClient, macPort0), ip4(client4, vipL3v4), tcp(40000, 80, "A"), payload("0123456789"))
		benchFrames(b, e, func(int) []byte { return f })
	})
	b.Run("l2dsr-new", func(b *testing.B) {
		e := newEnv(b, topology(), withFlowEntries(1<<20))
		f := build(ether(macClient, macPort0), ip4(client4, vipPoolv4), tcp(40000, 80, "S"), payload("0123456789"))
		benchFrames(b, e, func(i int) []byte {
			// a new client address and port per packet; the L4 checksum is not checked on this path
			binary.BigEndian.PutUint16(f[l3+13:], uint16(i>>16))
			binary.BigEndian.PutUint16(f[l3+20:], uint16(i))
			f[l3+10], f[l3+11] = 0, 0
			fixIPv4Csum(f)
			if i%(1<<19) == 0 {
				e.now += 1_000_000 // old flows expire so the table never fills
			}
			return f
		})
	})
}

func benchFrames(b *testing.B, e *env, frame func(i int) []byte) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if v := e.h.Run(frame(i), 0, e.now); v != VerdictTX {
			b.Fatalf("packet %d: %v", i, v)
		}
	}
}
