package dataplane

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// fixture is one packet through the fast path: the frame in, and either the frame that
// must come out (exact bytes, after both sides' Ethernet padding is set aside) or the drop
// reason, plus counter deltas beyond the ones every fixture checks (rx, and tx / kernel /
// the drop reason). Adding one is a few lines in a table.
type fixture struct {
	name     string
	in       []byte
	inPort   int
	want     []byte // expected output frame; nil when the packet must not be sent
	outPort  int
	verdict  Verdict // defaults to TX when want is set, else Drop
	drop     string
	counters map[string]uint64
	setup    func(*env) // runs before the packet (e.g. exhaust a rate limit)
}

func runFixtures(t *testing.T, e *env, fixtures []fixture) {
	t.Helper()
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			if f.setup != nil {
				f.setup(e)
			}
			runFixture(t, e, f)
		})
	}
}

func runFixture(t *testing.T, e *env, f fixture) {
	t.Helper()
	before := e.counters()
	got := e.process(f.in, f.inPort)
	after := e.counters()

	verdict := f.verdict
	if f.want != nil {
		verdict = VerdictTX
	}
	if got.Verdict != verdict || got.Drop != f.drop {
		t.Fatalf("verdict %v %q, want %v %q", got.Verdict, got.Drop, verdict, f.drop)
	}
	want := map[string]uint64{"rx_packets": 1}
	switch verdict {
	case VerdictTX:
		want["tx_packets"] = 1
		if got.OutPort != f.outPort {
			t.Errorf("out port %d, want %d", got.OutPort, f.outPort)
		}
		if d := diffFrames(f.want, got.Out); d != "" {
			t.Errorf("output differs (want → got):\n%s", d)
		}
		if err := checksumsHold(got.Out); err != nil {
			t.Errorf("output checksums: %v", err)
		}
	case VerdictKernel:
		want["kernel_packets"] = 1
	case VerdictDrop:
		want["drop:"+f.drop] = 1
	}
	for k, v := range f.counters {
		want[k] = v
	}
	checkDeltas(t, before, after, want)
}

// checkDeltas compares counter deltas for the names in want; rx/tx/kernel/drop counters
// not named must not move (bytes and per-flow counters are free to).
func checkDeltas(t *testing.T, before, after, want map[string]uint64) {
	t.Helper()
	var bad []string
	for k := range after {
		d := after[k] - before[k]
		w, named := want[k]
		strict := named || k == "tx_packets" || k == "kernel_packets" || strings.HasPrefix(k, "drop:")
		if strict && d != w {
			bad = append(bad, fmt.Sprintf("%s: +%d, want +%d", k, d, w))
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("counter deltas:\n  %s", strings.Join(bad, "\n  "))
	}
}

// ---------------------------------------------------------------------------------------
// Building frames.

// ether is an Ethernet header with VLAN tags (outermost first); two tags make QinQ with an
// 802.1ad outer tag. The types are filled in by build from the layer that follows.
func ether(src, dst net.HardwareAddr, tags ...uint16) []gopacket.SerializableLayer {
	out := []gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: src, DstMAC: dst}}
	for _, v := range tags {
		out = append(out, &layers.Dot1Q{VLANIdentifier: v})
	}
	return out
}

func ip4(src, dst netip.Addr) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, SrcIP: src.AsSlice(), DstIP: dst.AsSlice(), Id: 0x1234}
}

func ip6(src, dst netip.Addr) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, SrcIP: src.AsSlice(), DstIP: dst.AsSlice(), FlowLabel: 0x12345}
}

func tcp(sport, dport uint16, flags string) *layers.TCP {
	t := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: 1000, Window: 65535}
	t.SYN = strings.Contains(flags, "S")
	t.ACK = strings.Contains(flags, "A")
	t.FIN = strings.Contains(flags, "F")
	t.RST = strings.Contains(flags, "R")
	t.PSH = strings.Contains(flags, "P")
	if t.ACK {
		t.Ack = 1
	}
	return t
}

func udp(sport, dport uint16) *layers.UDP {
	return &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
}

func payload(s string) gopacket.Payload { return gopacket.Payload(s) }

// build serializes layers with lengths, checksums and next-protocol fields filled in.
func build(ls ...any) []byte {
	var flat []gopacket.SerializableLayer
	for _, l := range ls {
		switch v := l.(type) {
		case []gopacket.SerializableLayer:
			flat = append(flat, v...)
		case gopacket.SerializableLayer:
			flat = append(flat, v)
		default:
			panic(fmt.Sprintf("build: %T", l))
		}
	}
	var net gopacket.NetworkLayer
	tags := 0
	for _, l := range flat {
		if _, ok := l.(*layers.Dot1Q); ok {
			tags++
		}
	}
	for i, l := range flat {
		var next gopacket.SerializableLayer
		if i+1 < len(flat) {
			next = flat[i+1]
		}
		switch v := l.(type) {
		case *layers.Ethernet:
			if v.EthernetType == 0 {
				v.EthernetType = etherTypeOf(next)
				if tags == 2 {
					v.EthernetType = layers.EthernetTypeQinQ
				}
			}
		case *layers.Dot1Q:
			if v.Type == 0 {
				v.Type = etherTypeOf(next)
			}
		case *layers.IPv4:
			net = v
			if v.Protocol == 0 {
				v.Protocol = ipProtoOf(next)
			}
		case *layers.IPv6:
			net = v
			if v.NextHeader == 0 && next != nil {
				v.NextHeader = ipProtoOf(next)
			}
		case *layers.TCP:
			_ = v.SetNetworkLayerForChecksum(net)
		case *layers.UDP:
			_ = v.SetNetworkLayerForChecksum(net)
		case *layers.ICMPv6:
			_ = v.SetNetworkLayerForChecksum(net)
		}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, flat...); err != nil {
		panic(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func etherTypeOf(l gopacket.SerializableLayer) layers.EthernetType {
	switch l.(type) {
	case *layers.Dot1Q:
		return layers.EthernetTypeDot1Q
	case *layers.IPv4:
		return layers.EthernetTypeIPv4
	case *layers.IPv6:
		return layers.EthernetTypeIPv6
	case *layers.ARP:
		return layers.EthernetTypeARP
	}
	return layers.EthernetType(0x88b5) // local experimental
}

func ipProtoOf(l gopacket.SerializableLayer) layers.IPProtocol {
	switch v := l.(type) {
	case *layers.TCP:
		return layers.IPProtocolTCP
	case *layers.UDP:
		return layers.IPProtocolUDP
	case *layers.ICMPv4:
		return layers.IPProtocolICMPv4
	case *layers.ICMPv6:
		return layers.IPProtocolICMPv6
	case *layers.IPv6HopByHop:
		return layers.IPProtocolIPv6HopByHop
	case *layers.IPv6Destination:
		return layers.IPProtocolIPv6Destination
	case *rawExt:
		return v.proto
	}
	return layers.IPProtocol(253) // experimental
}

// rawExt is an IPv6 extension header (or anything) given as bytes.
type rawExt struct {
	proto layers.IPProtocol
	b     []byte
}

func (r *rawExt) LayerType() gopacket.LayerType { return gopacket.LayerTypePayload }
func (r *rawExt) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	p, err := b.PrependBytes(len(r.b))
	copy(p, r.b)
	return err
}

// ---------------------------------------------------------------------------------------
// Comparing frames.

// l3End is where the IP datagram or ARP packet of an Ethernet frame ends (link padding
// after it is not compared).
func l3End(f []byte) int {
	off := 12
	for off+2 <= len(f) {
		et := binary.BigEndian.Uint16(f[off:])
		switch et {
		case 0x8100, 0x88a8:
			off += 4
			continue
		case 0x0800:
			if off+6 <= len(f) {
				return min(len(f), off+2+int(binary.BigEndian.Uint16(f[off+4:])))
			}
		case 0x86dd:
			if off+8 <= len(f) {
				return min(len(f), off+2+40+int(binary.BigEndian.Uint16(f[off+6:])))
			}
		case 0x0806:
			return min(len(f), off+2+28)
		}
		break
	}
	return len(f)
}

// diffFrames explains, layer by layer and field by field, how got differs from want.
func diffFrames(want, got []byte) string {
	w, g := want[:l3End(want)], got[:l3End(got)]
	if bytes.Equal(w, g) {
		return ""
	}
	wl := gopacket.NewPacket(w, layers.LayerTypeEthernet, gopacket.Default).Layers()
	gl := gopacket.NewPacket(g, layers.LayerTypeEthernet, gopacket.Default).Layers()
	var b strings.Builder
	for i := 0; i < max(len(wl), len(gl)); i++ {
		switch {
		case i >= len(wl):
			fmt.Fprintf(&b, "  extra layer %v\n", gl[i].LayerType())
		case i >= len(gl):
			fmt.Fprintf(&b, "  missing layer %v\n", wl[i].LayerType())
		case wl[i].LayerType() != gl[i].LayerType():
			fmt.Fprintf(&b, "  layer %d: %v → %v\n", i, wl[i].LayerType(), gl[i].LayerType())
		default:
			diffFields(&b, wl[i].LayerType().String(), reflect.ValueOf(wl[i]).Elem(), reflect.ValueOf(gl[i]).Elem())
		}
	}
	if b.Len() == 0 {
		fmt.Fprintf(&b, "  bytes differ:\n  want %x\n  got  %x\n", w, g)
	}
	return b.String()
}

func diffFields(b *strings.Builder, name string, w, g reflect.Value) {
	if w.Kind() == reflect.Slice {
		if wb, gb := w.Bytes(), g.Bytes(); !bytes.Equal(wb, gb) {
			fmt.Fprintf(b, "  %s: %x → %x\n", name, wb, gb)
		}
		return
	}
	for i := 0; i < w.NumField(); i++ {
		f := w.Type().Field(i)
		if !f.IsExported() || f.Name == "BaseLayer" || f.Name == "Contents" || f.Name == "Payload" {
			continue
		}
		wv, gv := fmt.Sprint(w.Field(i).Interface()), fmt.Sprint(g.Field(i).Interface())
		if wv != gv {
			fmt.Fprintf(b, "  %s.%s: %s → %s\n", name, f.Name, wv, gv)
		}
	}
}

// checksumsHold decodes f with gopacket, serializes the decoded layers again with
// checksums computed, and reports a difference: every checksum in f must be right.
func checksumsHold(f []byte) error {
	f = f[:l3End(f)]
	p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
	var sl []gopacket.SerializableLayer
	var net gopacket.NetworkLayer
	udpZero := -1
	for _, l := range p.Layers() {
		switch v := l.(type) {
		case *layers.IPv6HopByHop, *layers.IPv6Destination, *layers.IPv6Fragment, *layers.IPv6Routing:
			return nil // gopacket re-serializes these inside IPv6: the exact-bytes check covers them
		case *layers.IPv4:
			net = v
		case *layers.IPv6:
			net = v
		case *layers.TCP:
			_ = v.SetNetworkLayerForChecksum(net)
		case *layers.UDP:
			_ = v.SetNetworkLayerForChecksum(net)
			if v.Checksum == 0 { // "no checksum" is legal for UDP over IPv4 and must stay so
				udpZero = len(f) - len(v.Contents) - len(v.Payload) + 6
			}
		case *layers.ICMPv6:
			_ = v.SetNetworkLayerForChecksum(net)
		}
		s, ok := l.(gopacket.SerializableLayer)
		if !ok {
			return fmt.Errorf("layer %v cannot be re-serialized", l.LayerType())
		}
		sl = append(sl, s)
		switch l.(type) {
		case *layers.TCP, *layers.UDP, *layers.ICMPv4, *layers.ICMPv6, *layers.ARP:
			sl = append(sl, gopacket.Payload(l.LayerPayload()))
		default:
			continue
		}
		break
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, sl...); err != nil {
		return err
	}
	re := append([]byte(nil), buf.Bytes()...)
	if udpZero >= 0 && udpZero+2 <= len(re) {
		re[udpZero], re[udpZero+1] = 0, 0
	}
	if len(re) < len(f) || !bytes.Equal(re[:len(f)], f) {
		return fmt.Errorf("recomputed checksums differ:\n%s", diffFrames(re, f))
	}
	return nil
}
