package main

import (
	"bytes"
	"io"
	"net/netip"
	"reflect"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

type tuple struct {
	src, dst         netip.Addr
	srcPort, dstPort uint16
}

// readBack parses every frame of a capture, checks its checksums by re-serialising and
// returns the 4-tuples and on-the-wire sizes (with FCS) in order.
func readBack(t *testing.T, pcap []byte) ([]tuple, []int) {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(pcap))
	if err != nil {
		t.Fatal(err)
	}
	var tuples []tuple
	var sizes []int
	for {
		data, _, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tcp == nil {
			t.Fatalf("frame %d is not TCP: %v", len(tuples), p)
		}
		var tp tuple
		switch ip := p.NetworkLayer().(type) {
		case *layers.IPv4:
			tp.src, _ = netip.AddrFromSlice(ip.SrcIP)
			tp.dst, _ = netip.AddrFromSlice(ip.DstIP)
			if ip.Checksum != ipv4Checksum(data[14:34]) {
				t.Fatalf("frame %d: bad IPv4 header checksum", len(tuples))
			}
		case *layers.IPv6:
			tp.src, _ = netip.AddrFromSlice(ip.SrcIP)
			tp.dst, _ = netip.AddrFromSlice(ip.DstIP)
		}
		tp.srcPort, tp.dstPort = uint16(tcp.SrcPort), uint16(tcp.DstPort)
		tuples = append(tuples, tp)
		sizes = append(sizes, len(data)+fcsLen)
	}
	return tuples, sizes
}

func ipv4Checksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i < len(h); i += 2 {
		if i == 10 {
			continue
		}
		sum += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

func write(t *testing.T, c Config) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := Write(&b, c); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDefaultMixIsDistinctFlowsOf64ByteFramesTowardTheVIP(t *testing.T) {
	c := DefaultConfig()
	tuples, sizes := readBack(t, write(t, c))
	if len(tuples) != 1024 {
		t.Fatalf("%d frames, want 1024", len(tuples))
	}
	seen := map[tuple]bool{}
	client := netip.MustParsePrefix("198.18.0.0/16")
	for i, tp := range tuples {
		if tp.dst != c.VIP || tp.dstPort != 80 {
			t.Fatalf("frame %d goes to %s:%d", i, tp.dst, tp.dstPort)
		}
		if !client.Contains(tp.src) || tp.src == c.VIP {
			t.Fatalf("frame %d comes from %s, want a client in %s", i, tp.src, client)
		}
		if sizes[i] != 64 {
			t.Fatalf("frame %d is %d bytes, want 64", i, sizes[i])
		}
		seen[tp] = true
	}
	if len(seen) != 1024 {
		t.Fatalf("%d distinct flows, want 1024", len(seen))
	}
}

func TestIMIXSendsEveryFlowAndSizesInRatio7To4To1(t *testing.T) {
	c := DefaultConfig()
	c.Size = 0
	tuples, sizes := readBack(t, write(t, c))
	count := map[int]int{}
	for _, s := range sizes {
		count[s]++
	}
	n := len(sizes)
	if count[64]*12 != 7*n || count[594]*12 != 4*n || count[1518]*12 != n {
		t.Fatalf("sizes %v over %d frames, want 7:4:1", count, n)
	}
	perFlow := map[tuple]int{}
	for _, tp := range tuples {
		perFlow[tp]++
	}
	if len(perFlow) != c.Flows {
		t.Fatalf("%d flows, want %d", len(perFlow), c.Flows)
	}
	for tp, k := range perFlow {
		if k != n/c.Flows {
			t.Fatalf("flow %v sent %d frames, want %d", tp, k, n/c.Flows)
		}
	}
}

func TestIPv6FramesAreTheSmallestThatHoldTheHeaders(t *testing.T) {
	c := DefaultConfig()
	c.VIP = netip.MustParseAddr("2001:db8::100")
	c.Flows = 64
	tuples, sizes := readBack(t, write(t, c))
	if len(tuples) != 64 || tuples[0].dst != c.VIP || !netip.MustParsePrefix("2001:db8:1::/64").Contains(tuples[0].src) {
		t.Fatalf("got %d frames, first %v", len(tuples), tuples[0])
	}
	if sizes[0] != 14+40+20+fcsLen {
		t.Fatalf("IPv6 64-byte request made %d-byte frames, want 78", sizes[0])
	}
}

func TestSameSeedSameBytesOtherSeedOtherFlows(t *testing.T) {
	c := DefaultConfig()
	a, b := write(t, c), write(t, c)
	if !bytes.Equal(a, b) {
		t.Fatal("two runs with one seed differ")
	}
	c.Seed = 2
	if bytes.Equal(a, write(t, c)) {
		t.Fatal("another seed wrote the same capture")
	}
}

func TestInvalidMixesAreRefused(t *testing.T) {
	for name, mod := range map[string]func(*Config){
		"no flows":   func(c *Config) { c.Flows = 0 },
		"tiny frame": func(c *Config) { c.Size = 40 },
		"jumbo":      func(c *Config) { c.Size = 9000 },
		"no vip":     func(c *Config) { c.VIP = netip.Addr{} },
	} {
		c := DefaultConfig()
		mod(&c)
		if _, err := Write(io.Discard, c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSYNCopyIsTheSameMixWrittenWithSYNs(t *testing.T) {
	for name, mod := range map[string]func(*Config){
		"64-byte": func(*Config) {},
		"imix":    func(c *Config) { c.Size, c.Flows = 0, 100 },
		"ipv6":    func(c *Config) { c.VIP, c.Flows = netip.MustParseAddr("2001:db8::100"), 64 },
	} {
		c := DefaultConfig()
		mod(&c)
		var got bytes.Buffer
		frames, flows, err := SYNOf(&got, bytes.NewReader(write(t, c)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c.SYN = true
		want := write(t, c)
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s: the SYN copy differs from flowgen -syn's capture of the same flows", name)
		}
		if tuples, _ := readBack(t, want); frames != len(tuples) || flows != c.Flows {
			t.Errorf("%s: %d frames and %d flows, want %d and %d", name, frames, flows, len(tuples), c.Flows)
		}
	}
}

// TestOpenThenReplayOpensEachFlowOnceThenReplaysTheMix: the nat/fnat through-PMD mix is one
// SYN per flow (flowgen -syn's frame for it) followed by the ACK mix, unchanged, rounds times.
func TestOpenThenReplayOpensEachFlowOnceThenReplaysTheMix(t *testing.T) {
	c := DefaultConfig()
	c.Flows = 100
	acks := write(t, c)
	var got bytes.Buffer
	frames, flows, err := OpenThenReplay(&got, bytes.NewReader(acks), 3)
	if err != nil {
		t.Fatal(err)
	}
	c.SYN = true
	syns := write(t, c) // one frame per flow: 100 flows of one size
	synTuples, _ := readBack(t, syns)
	ackTuples, _ := readBack(t, acks)
	gotTuples, _ := readBack(t, got.Bytes())
	if flows != 100 || frames != 100+3*len(ackTuples) || len(gotTuples) != frames {
		t.Fatalf("%d frames (%d read back) and %d flows, want %d and 100", frames, len(gotTuples), flows, 100+3*len(ackTuples))
	}
	if !bytes.Equal(got.Bytes()[:len(syns)], syns) || len(synTuples) != 100 {
		t.Errorf("the opening frames are not flowgen -syn's frames, one per flow in order")
	}
	for r := range 3 {
		if part := gotTuples[100+r*len(ackTuples) : 100+(r+1)*len(ackTuples)]; !reflect.DeepEqual(part, ackTuples) {
			t.Errorf("round %d is not the ACK mix unchanged", r)
		}
	}
	if _, _, err := OpenThenReplay(io.Discard, bytes.NewReader(acks), 0); err == nil {
		t.Error("0 rounds accepted")
	}
}
