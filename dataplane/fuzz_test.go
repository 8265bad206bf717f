package dataplane

import (
	"testing"
)

// FuzzProcess throws arbitrary frames at the parser entry (tenbin_process): it must never
// crash, read or write outside the frame and its headroom, or lose count of a packet.
// Run: go test ./dataplane -run '^$' -fuzz FuzzProcess -fuzztime 20s
func FuzzProcess(f *testing.F) {
	for _, in := range allInputs() {
		f.Add(in, uint8(0))
	}
	e := newEnv(f, topology())
	f.Fuzz(func(t *testing.T, frame []byte, port uint8) {
		rx := e.region.Counters(0).Global[0]
		r := e.h.Process(frame, int(port%2), e.now)
		if e.region.Counters(0).Global[0] != rx+1 {
			t.Fatal("rx not counted")
		}
		switch r.Verdict {
		case VerdictTX:
			if len(r.Out) < 14 || r.OutPort >= 8 {
				t.Fatalf("sent %d bytes on port %d", len(r.Out), r.OutPort)
			}
		case VerdictDrop:
			if r.Drop == "" {
				t.Fatal("drop without a reason")
			}
		}
	})
}
