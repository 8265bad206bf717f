package dataplane

import (
	"testing"
)

// TestVIPLookupFollowsPublish: a VIP removed by a publish stops matching at once, and one
// added starts, although the worker remembers its last TCP/UDP VIP lookup.
func TestVIPLookupFollowsPublish(t *testing.T) {
	e := newEnv(t, topology())
	syn := func(sport uint16) []byte {
		return build(ether(macClient, macPort0), ip4(client4, vipL2v4), tcp(sport, 80, "S"))
	}
	if got := e.process(syn(42000), 0); got.Verdict != VerdictTX {
		t.Fatalf("before: verdict %v %q, want tx", got.Verdict, got.Drop)
	}
	without := topology()
	without.Services = without.Services[1:] // web4-l2 (vipL2v4 TCP 80) goes
	e.publish(without)
	if got := e.process(syn(42001), 0); got.Verdict != VerdictDrop || got.Drop != "no_vip" {
		t.Fatalf("after removing the VIP: verdict %v %q, want drop no_vip", got.Verdict, got.Drop)
	}
	e.publish(topology())
	if got := e.process(syn(42002), 0); got.Verdict != VerdictTX {
		t.Fatalf("after adding it back: verdict %v %q, want tx", got.Verdict, got.Drop)
	}
}
