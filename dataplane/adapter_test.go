package dataplane

import "testing"

// The mbuf adapter writes an mbuf's offset and lengths back only for a frame whose size
// changed (lcore.c): a frame that lost or gained VLAN tags must leave with its new span,
// one that did not with the one it came with, and both with the bytes tenbin_burst wrote.
func TestMbufAdapterCarriesEachFrameSize(t *testing.T) {
	e := newEnv(t, topology())
	for _, c := range []struct {
		name    string
		in      []byte
		want    []byte
		grow    int // bytes the frame gains on the way (negative: loses)
		outPort int
	}{{
		name: "same size, new flow",
		in:   build(ether(macClient, macPort0), ip4(client4, vipL2v4), tcp(41000, 80, "S")),
		want: build(ether(macPort0, macRS1), ip4(client4, vipL2v4), tcp(41000, 80, "S")),
	}, {
		name: "same size, express lane",
		in:   build(ether(macClient, macPort0), ip4(client4, vipL2v4), tcp(41000, 80, "A"), payload("GET /")),
		want: build(ether(macPort0, macRS1), ip4(client4, vipL2v4), tcp(41000, 80, "A"), payload("GET /")),
	}, {
		name: "tag popped (4 bytes shorter)",
		in:   build(ether(macClient, macPort0, 100), ip4(client4, vipL2v4), tcp(41001, 80, "S")),
		want: build(ether(macPort0, macRS1), ip4(client4, vipL2v4), tcp(41001, 80, "S")),
		grow: -4,
	}, {
		name: "QinQ popped (8 bytes shorter)",
		in:   build(ether(macClient, macPort0, 10, 100), ip4(client4, vipL2v4), tcp(41002, 80, "S")),
		want: build(ether(macPort0, macRS1), ip4(client4, vipL2v4), tcp(41002, 80, "S")),
		grow: -8,
	}, {
		name:    "tag pushed (4 bytes longer)",
		in:      build(ether(macClient, macPort0), ip4(client4, vipVLANv4), tcp(41003, 80, "S")),
		want:    build(ether(macPort1, macRS2, 300), ip4(client4, vipVLANv4), tcp(41003, 80, "S")),
		grow:    4,
		outPort: 1,
	}} {
		t.Run(c.name, func(t *testing.T) {
			got, err := e.h.ProcessMbuf(c.in, 0, e.now)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Sent || got.OutPort != c.outPort {
				t.Fatalf("sent %v on port %d, want sent on port %d", got.Sent, got.OutPort, c.outPort)
			}
			if d := diffFrames(c.want, got.Out); d != "" {
				t.Errorf("the mbuf's frame differs (want → got):\n%s", d)
			}
			if len(got.Out) != len(c.in)+c.grow || got.PktLen != len(got.Out) {
				t.Errorf("data_len %d, pkt_len %d: want both %d (%d received, %+d)",
					len(got.Out), got.PktLen, len(c.in)+c.grow, len(c.in), c.grow)
			}
		})
	}
}
