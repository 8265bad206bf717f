package toa

import (
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// synHeaders builds the IP and TCP headers of a SYN as TCP_SAVED_SYN returns them.
func synHeaders(t *testing.T, v6 bool, opts ...layers.TCPOption) []byte {
	t.Helper()
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 8080, SYN: true, Window: 64240, Options: opts}
	var ip gopacket.NetworkLayer
	if v6 {
		ip6 := &layers.IPv6{Version: 6, HopLimit: 63, NextHeader: layers.IPProtocolTCP,
			SrcIP: net.ParseIP("2001:db8:10::50"), DstIP: net.ParseIP("2001:db8:10::11")}
		ip = ip6
	} else {
		ip4 := &layers.IPv4{Version: 4, IHL: 5, TTL: 63, Protocol: layers.IPProtocolTCP,
			SrcIP: net.ParseIP("198.18.10.50").To4(), DstIP: net.ParseIP("198.18.10.11").To4()}
		ip = ip4
	}
	tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		ip.(gopacket.SerializableLayer), tcp)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseTOA(t *testing.T) {
	mss := layers.TCPOption{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}}
	nop := layers.TCPOption{OptionType: layers.TCPOptionKindNop, OptionLength: 1}
	toa4 := layers.TCPOption{OptionType: tcpOptTOA, OptionLength: 8, OptionData: []byte{0x9c, 0x40, 198, 18, 0, 3}}
	v6 := netip.MustParseAddr("2001:db8::3").As16()
	toa6 := layers.TCPOption{OptionType: tcpOptTOA, OptionLength: 20, OptionData: append([]byte{0x9c, 0x41}, v6[:]...)}
	for _, tc := range []struct {
		name string
		syn  []byte
		want string
		err  error
	}{
		{"v4 after MSS", synHeaders(t, false, mss, nop, nop, toa4), "198.18.0.3:40000", nil},
		{"v6", synHeaders(t, true, mss, toa6), "[2001:db8::3]:40001", nil},
		{"none", synHeaders(t, false, mss), "", ErrNoTOA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.syn)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Parse: error %v, want %v", err, tc.err)
			}
			if err == nil && got.String() != tc.want {
				t.Errorf("Parse = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestSavedSYNOnLoopback: a listener with TCP_SAVE_SYN hands out the SYN of each accepted
// connection (here without TOA: no balancer between).
func TestSavedSYNOnLoopback(t *testing.T) {
	lc := net.ListenConfig{Control: SaveSYN}
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	syn, err := SavedSYN(s.(*net.TCPConn))
	if err != nil {
		t.Fatal(err)
	}
	if len(syn) < 40 || syn[0]>>4 != 4 {
		t.Fatalf("saved SYN: %d bytes %x, want IPv4 + TCP headers", len(syn), syn)
	}
	if _, err := Parse(syn); !errors.Is(err, ErrNoTOA) {
		t.Errorf("Parse on a direct SYN: %v, want %v", err, ErrNoTOA)
	}
}
