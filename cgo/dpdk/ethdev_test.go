package dpdk

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

func TestPortByName(t *testing.T) {
	p, err := PortByName("net_null0")
	if err != nil {
		t.Fatal(err)
	}
	if name, err := p.Name(); err != nil || name != "net_null0" {
		t.Errorf("Name() = %q, %v; want net_null0", name, err)
	}
	info, err := p.Info()
	if err != nil {
		t.Fatal(err)
	}
	if info.Driver != "net_null" || info.MaxRxQueues == 0 || info.MaxTxQueues == 0 {
		t.Errorf("Info() = %+v, want driver net_null with queues", info)
	}
	if CountAvail() < 1 || !containsPort(Ports(), p) {
		t.Errorf("CountAvail() = %d, Ports() = %v: want net_null0's port %d among them", CountAvail(), Ports(), p)
	}
}

func containsPort(ports []Port, p Port) bool {
	for _, q := range ports {
		if q == p {
			return true
		}
	}
	return false
}

func TestUnknownPortAndBogusVdev(t *testing.T) {
	_, err := PortByName("net_nothere0")
	var dErr *Error
	if !errors.Is(err, ErrNoDevice) || !errors.As(err, &dErr) || !strings.Contains(err.Error(), "No such device") {
		t.Errorf("PortByName(net_nothere0): err = %v, want *Error ENODEV with rte_strerror text", err)
	}
	if !strings.Contains(fmt.Sprint(err), "net_nothere0") {
		t.Errorf("error %q does not name the port", err)
	}

	err = VdevInit("net_bogus0", "")
	if !errors.As(err, &dErr) || !strings.Contains(err.Error(), "net_bogus0") {
		t.Fatalf("VdevInit(net_bogus0): err = %v, want *Error naming it", err)
	}
	if text := err.Error(); !strings.HasSuffix(text, ": "+strerror(dErr.Errno)) {
		t.Errorf("error %q does not end with rte_strerror(%d) %q", text, dErr.Errno, strerror(dErr.Errno))
	}
	if _, err := PortByName("net_bogus0"); !errors.Is(err, ErrNoDevice) {
		t.Errorf("a failed vdev left a port behind: %v", err)
	}
}

// startPort configures one rx and one tx queue per port count and starts it.
func startPort(t *testing.T, p Port, nbRx uint16, conf PortConf, mp *Mempool) {
	t.Helper()
	if err := p.Configure(nbRx, 1, conf); err != nil {
		t.Fatal(err)
	}
	for q := uint16(0); q < nbRx; q++ {
		if err := p.RxQueueSetup(q, 256, SocketAny, mp); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.TxQueueSetup(0, 256, SocketAny); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
}

func TestNullPortLifecycle(t *testing.T) {
	p, err := PortByName("net_null0")
	if err != nil {
		t.Fatal(err)
	}
	mp, err := NewPktMbufPool("test_null", 2047, 32, DefaultMbufDataRoom, SocketAny, PackedWhereSafe)
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Free()
	startPort(t, p, 2, PortConf{RSS: true, Promiscuous: true}, mp)

	if link, err := p.Link(); err != nil || !link.Up {
		t.Errorf("Link() = %+v, %v; want up after start", link, err)
	}
	if mac, err := p.MACAddr(); err != nil || len(mac) != 6 {
		t.Errorf("MACAddr() = %v, %v", mac, err)
	}

	// net_null makes up a packet for every rx slot and drops what it sends.
	got, err := p.RxBurst(1, 8)
	if err != nil || len(got) != 8 {
		t.Fatalf("RxBurst(1, 8) = %d packets, %v; want 8", len(got), err)
	}
	if sent, err := p.TxBurst(0, mp, got[:5]); err != nil || sent != 5 {
		t.Fatalf("TxBurst of 5 = %d, %v", sent, err)
	}
	if mp.InUse() != 0 {
		t.Errorf("%d mbufs still in use after the bursts", mp.InUse())
	}
	st, err := p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.RxPackets != 8 || st.TxPackets != 5 {
		t.Errorf("Stats() = %+v, want 8 received and 5 sent", st)
	}
	xs, err := p.XStats()
	if err != nil {
		t.Fatal(err)
	}
	if xs["rx_good_packets"] != 8 || xs["tx_good_packets"] != 5 || xs["rx_q1_packets"] != 8 {
		t.Errorf("XStats() = %v, want rx_good_packets 8, rx_q1_packets 8, tx_good_packets 5", xs)
	}
	if err := p.ResetStats(); err != nil {
		t.Fatal(err)
	}
	if st, _ := p.Stats(); st != (Stats{}) {
		t.Errorf("Stats() after ResetStats = %+v, want zero", st)
	}

	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if link, err := p.Link(); err != nil || link.Up {
		t.Errorf("Link() = %+v, %v; want down after stop", link, err)
	}
	// A stopped port can be configured and started again.
	startPort(t, p, 1, PortConf{MTU: 1500}, mp)
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
}

// testFrame builds a UDP packet between lab addresses with seq as payload.
func testFrame(t *testing.T, seq int) []byte {
	t.Helper()
	eth := &layers.Ethernet{
		SrcMAC:       net.HardwareAddr{0x02, 0, 0, 0, 0, 1},
		DstMAC:       net.HardwareAddr{0x02, 0, 0, 0, 0, 2},
		EthernetType: layers.EthernetTypeIPv4,
	}
	ip := &layers.IPv4{
		Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP,
		SrcIP: net.IPv4(198, 18, 0, 1), DstIP: net.IPv4(198, 18, 0, 2),
	}
	udp := &layers.UDP{SrcPort: layers.UDPPort(40000 + seq), DstPort: 80}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, udp, gopacket.Payload(fmt.Sprintf("packet %d", seq))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRingPairForwardsAndCounts(t *testing.T) {
	pair, err := NewRingPair("a", "b", 1024, SocketAny)
	if err != nil {
		t.Fatal(err)
	}
	defer pair.Close()
	mp, err := NewPktMbufPool("test_ring", 1023, 0, DefaultMbufDataRoom, SocketAny, PackedWhereSafe)
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Free()
	for _, p := range []Port{pair.A, pair.B} {
		startPort(t, p, 1, PortConf{}, mp)
	}
	if p, err := PortByName("net_ring_b"); err != nil || p != pair.B {
		t.Errorf("PortByName(net_ring_b) = %d, %v; want %d", p, err, pair.B)
	}

	var frames [][]byte
	for i := range 16 {
		frames = append(frames, testFrame(t, i))
	}
	if sent, err := pair.A.TxBurst(0, mp, frames); err != nil || sent != len(frames) {
		t.Fatalf("TxBurst on A = %d, %v; want %d", sent, err, len(frames))
	}
	if back, _ := pair.A.RxBurst(0, 32); len(back) != 0 {
		t.Errorf("A received %d of its own packets", len(back))
	}
	got, err := pair.B.RxBurst(0, 32)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(frames) {
		t.Fatalf("B received %d packets, want %d", len(got), len(frames))
	}
	for i := range got {
		if !bytes.Equal(got[i], frames[i]) {
			t.Errorf("packet %d changed on the way:\n got %x\nwant %x", i, got[i], frames[i])
		}
	}
	// And back the other way.
	if sent, _ := pair.B.TxBurst(0, mp, got[:3]); sent != 3 {
		t.Fatalf("TxBurst on B = %d, want 3", sent)
	}
	if back, _ := pair.A.RxBurst(0, 32); len(back) != 3 {
		t.Errorf("A received %d packets from B, want 3", len(back))
	}

	// net_ring counts packets, not bytes.
	aStats, _ := pair.A.Stats()
	bStats, _ := pair.B.Stats()
	if aStats.TxPackets != 16 || bStats.RxPackets != 16 || bStats.TxPackets != 3 || aStats.RxPackets != 3 {
		t.Errorf("stats: A %+v, B %+v; want A→B 16 packets, B→A 3", aStats, bStats)
	}
	if mp.InUse() != 0 {
		t.Errorf("%d mbufs still in use", mp.InUse())
	}

	// Packets left in a ring go back to their pool on Close.
	if sent, _ := pair.A.TxBurst(0, mp, frames[:4]); sent != 4 || mp.InUse() != 4 {
		t.Fatalf("sent %d, %d in use; want 4 queued in the ring", sent, mp.InUse())
	}
	if err := pair.Close(); err != nil {
		t.Fatal(err)
	}
	if mp.InUse() != 0 {
		t.Errorf("%d mbufs still in use after Close", mp.InUse())
	}
	for _, name := range []string{"net_ring_a", "net_ring_b"} {
		if _, err := PortByName(name); !errors.Is(err, ErrNoDevice) {
			t.Errorf("PortByName(%s) after Close: %v, want ErrNoDevice", name, err)
		}
	}
}

func TestVdevHotPlug(t *testing.T) {
	if err := VdevInit("net_null1", "size=128"); err != nil {
		t.Fatal(err)
	}
	p, err := PortByName("net_null1")
	if err != nil {
		t.Fatal(err)
	}
	mp, err := NewPktMbufPool("test_hotplug", 255, 0, DefaultMbufDataRoom, SocketAny, PackedWhereSafe)
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Free()
	startPort(t, p, 1, PortConf{}, mp)
	if got, err := p.RxBurst(0, 4); err != nil || len(got) != 4 || len(got[0]) != 128 {
		t.Errorf("RxBurst on net_null1,size=128 = %d packets, %v; want 4 of 128 bytes", len(got), err)
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := VdevUninit("net_null1"); err != nil {
		t.Fatal(err)
	}
	if _, err := PortByName("net_null1"); !errors.Is(err, ErrNoDevice) {
		t.Errorf("PortByName after VdevUninit: %v, want ErrNoDevice", err)
	}
	if err := VdevUninit("net_null1"); err == nil {
		t.Error("VdevUninit of a removed vdev succeeded")
	}
}
