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

// flowKey names a TCP flow of a capture: its address pair and port pair.
type flowKey struct{ net, tcp gopacket.Flow }

// asSYN returns a copy of the TCP frame data made a SYN (ACK flag and acknowledgment
// number cleared, checksums recomputed) and the flow it belongs to.
func asSYN(data []byte, lt layers.LinkType) ([]byte, flowKey, error) {
	p := gopacket.NewPacket(data, lt, gopacket.Default)
	tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if tcp == nil || p.NetworkLayer() == nil {
		return nil, flowKey{}, ErrNotTCP
	}
	k := flowKey{p.NetworkLayer().NetworkFlow(), tcp.TransportFlow()}
	tcp.SYN, tcp.ACK, tcp.Ack = true, false, 0
	if err := tcp.SetNetworkLayerForChecksum(p.NetworkLayer()); err != nil {
		return nil, k, err
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializePacket(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, p); err != nil {
		return nil, k, fmt.Errorf("serialise: %w", err)
	}
	return buf.Bytes(), k, nil
}

// capturedFrame is one frame of a capture read into memory.
type capturedFrame struct {
	ci   gopacket.CaptureInfo
	data []byte
}

// readCapture reads every frame of the capture in r.
func readCapture(r io.Reader) (*pcapgo.Reader, []capturedFrame, error) {
	pr, err := pcapgo.NewReader(r)
	if err != nil {
		return nil, nil, fmt.Errorf("read pcap: %w", err)
	}
	var in []capturedFrame
	for {
		data, ci, err := pr.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return pr, in, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("pcap frame %d: %w", len(in), err)
		}
		in = append(in, capturedFrame{ci, append([]byte(nil), data...)})
	}
}

// writeCapture writes frames to w as a capture with pr's snap length and link type.
func writeCapture(w io.Writer, pr *pcapgo.Reader, frames []capturedFrame) error {
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(pr.Snaplen(), pr.LinkType()); err != nil {
		return fmt.Errorf("pcap header: %w", err)
	}
	for i, f := range frames {
		f.ci.CaptureLength, f.ci.Length = len(f.data), len(f.data)
		if err := pw.WritePacket(f.ci, f.data); err != nil {
			return fmt.Errorf("pcap frame %d: %w", i, err)
		}
	}
	return nil
}

// SYNOf copies the capture in r to w with every TCP segment made a SYN and returns how
// many frames and distinct flows (address and port pairs) it holds. Frames, sizes, flows
// and their order stay those of r: nat opens a connection only on a SYN (an ACK of a
// connection it never saw is dropped as nat_no_state), so this is the l2dsr mix whose
// every segment can open its connection.
func SYNOf(w io.Writer, r io.Reader) (frames, flows int, err error) {
	pr, in, err := readCapture(r)
	if err != nil {
		return 0, 0, err
	}
	seen := map[flowKey]bool{}
	out := make([]capturedFrame, len(in))
	for i, f := range in {
		data, k, err := asSYN(f.data, pr.LinkType())
		if err != nil {
			return i, len(seen), fmt.Errorf("pcap frame %d: %w", i, err)
		}
		seen[k] = true
		out[i] = capturedFrame{f.ci, data}
	}
	return len(out), len(seen), writeCapture(w, pr, out)
}

// OpenThenReplay copies the capture in r to w behind one opening SYN per flow (a SYN copy
// of the flow's first frame, in order of first appearance), then r's frames unchanged,
// rounds times, and returns how many frames and flows it wrote. Replayed endlessly
// (infinite_rx), each flow's connection is opened by its SYN and then carries r's
// segments (ACKs: established traffic) rounds times per SYN: the traffic nat and fnat
// forward once connections are up, rather than a stream of SYNs.
func OpenThenReplay(w io.Writer, r io.Reader, rounds int) (frames, flows int, err error) {
	if rounds < 1 {
		return 0, 0, fmt.Errorf("rounds %d: must be at least 1", rounds)
	}
	pr, in, err := readCapture(r)
	if err != nil {
		return 0, 0, err
	}
	seen := map[flowKey]bool{}
	var out []capturedFrame
	for i, f := range in {
		data, k, err := asSYN(f.data, pr.LinkType())
		if err != nil {
			return 0, len(seen), fmt.Errorf("pcap frame %d: %w", i, err)
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, capturedFrame{f.ci, data})
		}
	}
	for range rounds {
		out = append(out, in...)
	}
	return len(out), len(seen), writeCapture(w, pr, out)
}
