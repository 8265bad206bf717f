package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// ErrNotTCP means a frame of the capture to convert holds no TCP segment.
var ErrNotTCP = errors.New("frame is not TCP")

// SYNOf copies the capture in r to w with every TCP segment made a SYN (ACK flag and
// acknowledgment number cleared, checksums recomputed) and returns how many frames and
// distinct flows (address and port pairs) it holds. Frames, sizes, flows and their order
// stay those of r: the nat/fnat mix is the l2dsr mix whose every segment can open its
// connection (nat opens one only on a SYN; an ACK of a connection it never saw is dropped
// as nat_no_state), so the two modes replay the same bytes but for the flags.
func SYNOf(w io.Writer, r io.Reader) (frames, flows int, err error) {
	pr, err := pcapgo.NewReader(r)
	if err != nil {
		return 0, 0, fmt.Errorf("read pcap: %w", err)
	}
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(pr.Snaplen(), pr.LinkType()); err != nil {
		return 0, 0, fmt.Errorf("pcap header: %w", err)
	}
	type key struct{ net, tcp gopacket.Flow }
	seen := map[key]bool{}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	for {
		data, ci, err := pr.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return frames, len(seen), nil
		}
		if err != nil {
			return frames, len(seen), fmt.Errorf("pcap frame %d: %w", frames, err)
		}
		p := gopacket.NewPacket(data, pr.LinkType(), gopacket.Default)
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tcp == nil || p.NetworkLayer() == nil {
			return frames, len(seen), fmt.Errorf("pcap frame %d: %w", frames, ErrNotTCP)
		}
		seen[key{p.NetworkLayer().NetworkFlow(), tcp.TransportFlow()}] = true
		tcp.SYN, tcp.ACK, tcp.Ack = true, false, 0
		if err := tcp.SetNetworkLayerForChecksum(p.NetworkLayer()); err != nil {
			return frames, len(seen), fmt.Errorf("pcap frame %d: %w", frames, err)
		}
		if err := gopacket.SerializePacket(buf, opts, p); err != nil {
			return frames, len(seen), fmt.Errorf("pcap frame %d: serialise: %w", frames, err)
		}
		out := buf.Bytes()
		ci.CaptureLength, ci.Length = len(out), len(out)
		if err := pw.WritePacket(ci, out); err != nil {
			return frames, len(seen), fmt.Errorf("pcap frame %d: %w", frames, err)
		}
		frames++
	}
}
