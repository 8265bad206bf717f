// Package flowpcap writes small captures of TCP segments from distinct clients toward a VIP,
// for tests that replay them through the dataplane binary with net_pcap.
package flowpcap

import (
	"fmt"
	"net"
	"os"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// Write writes n IPv4 TCP segments to 198.18.0.100:80, one per client (198.19.x.y, port
// 20000+i), with the SYN or the ACK flag: SYNs open flows, ACKs keep established ones busy.
func Write(path string, n int, syn bool) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IPv4(198, 19, byte(i>>8), byte(i)), DstIP: net.IPv4(198, 18, 0, 100)}
		tcp := &layers.TCP{SrcPort: layers.TCPPort(20000 + i), DstPort: 80, SYN: syn, ACK: !syn, Seq: 1}
		if !syn {
			tcp.Ack = 1
		}
		tcp.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp); err != nil {
			return fmt.Errorf("frame %d: %w", i, err)
		}
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, 0), CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}
		if err := w.WritePacket(ci, buf.Bytes()); err != nil {
			return err
		}
	}
	return f.Close()
}
