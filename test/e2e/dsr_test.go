package e2e

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// TestDSRRepliesBypassBalancer: in the DSR modes the real servers answer the client through the
// router, so the balancer's ports carry the requests to each VIP and never a reply from one.
// tcpdump on the balancer's p0 and p1 (the veths the dataplane owns) shows both directions.
func TestDSRRepliesBypassBalancer(t *testing.T) {
	l := requireLab(t)
	vips := map[netip.Addr]string{}
	for _, svc := range services {
		u, err := url.Parse(svc.url)
		if err != nil {
			t.Fatal(err)
		}
		vips[netip.MustParseAddr(u.Hostname())] = svc.name
	}
	dir := t.TempDir()
	var caps []*capture
	for _, port := range []string{"p0", "p1"} {
		caps = append(caps, startCapture(t, "lb", port, filepath.Join(dir, port+".pcap")))
	}
	for _, svc := range services {
		r := l.load(t, svc.url, 200)
		if r.failed() != 0 {
			t.Errorf("%s: %v", svc.name, r)
		}
	}
	toVIP := map[string]int{}
	fromVIP := map[string]int{}
	for _, c := range caps {
		c.stop(t)
		to, from := c.countVIPPackets(t, vips)
		t.Logf("port %s: packets to each VIP %v, from each VIP %v", c.port, to, from)
		for k, v := range to {
			toVIP[k] += v
		}
		for k, v := range from {
			fromVIP[k] += v
		}
	}
	for _, svc := range services {
		if toVIP[svc.name] == 0 {
			t.Errorf("%s: no client packet to the VIP seen on the balancer's ports: the capture does not work", svc.name)
		}
		if fromVIP[svc.name] != 0 {
			t.Errorf("%s: %d reply packets from the VIP passed the balancer; DSR replies must go real server → router → client", svc.name, fromVIP[svc.name])
		}
	}
	t.Logf("DSR: packets to the VIPs at the balancer %v, from the VIPs %v", toVIP, fromVIP)
}

// capture is tcpdump writing what crosses one of the lab's interfaces to a pcap file.
type capture struct {
	port, file string
	cmd        *exec.Cmd
}

// startCapture starts tcpdump on interface port of the lab's namespace ns (lb, router, ...).
func startCapture(t *testing.T, ns, port, file string) *capture {
	t.Helper()
	c := &capture{port: port, file: file}
	// -U writes every packet at once, so stopping loses nothing; only the headers are needed.
	c.cmd = exec.Command("ip", "netns", "exec", labPrefix+"-"+ns, "tcpdump", "-i", port, "-nn", "-U", "-s", "128", "-w", file, "tcp")
	ready := make(chan struct{})
	c.cmd.Stderr = &readyWriter{mark: []byte("listening on"), ready: ready}
	startCmd(t, c.cmd)
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		t.Fatalf("tcpdump on %s did not start within 5 s", port)
	}
	return c
}

func (c *capture) stop(t *testing.T) {
	t.Helper()
	// tcpdump may lag behind the traffic on two busy cores; what it has not read from the
	// kernel when it stops is lost, so wait until the file stops growing.
	size := int64(-1)
	waitFor(5*time.Second, func() bool {
		fi, err := os.Stat(c.file)
		if err == nil && fi.Size() == size {
			return true
		}
		if err == nil {
			size = fi.Size()
		}
		time.Sleep(250 * time.Millisecond)
		return false
	})
	c.cmd.Process.Signal(syscall.SIGTERM)
	c.cmd.Wait()
}

// countVIPPackets counts, per service, the captured packets to its VIP and from it.
func (c *capture) countVIPPackets(t *testing.T, vips map[netip.Addr]string) (to, from map[string]int) {
	t.Helper()
	f, err := os.Open(c.file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", c.file, err)
	}
	to, from = map[string]int{}, map[string]int{}
	for {
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return to, from
		}
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		src, dst, ok := ipAddrs(gopacket.NewPacket(data, r.LinkType(), gopacket.NoCopy))
		if !ok {
			continue
		}
		if name, ok := vips[dst]; ok {
			to[name]++
		}
		if name, ok := vips[src]; ok {
			from[name]++
		}
	}
}

func ipAddrs(p gopacket.Packet) (src, dst netip.Addr, ok bool) {
	var s, d net.IP
	switch ip := p.NetworkLayer().(type) {
	case *layers.IPv4:
		s, d = ip.SrcIP, ip.DstIP
	case *layers.IPv6:
		s, d = ip.SrcIP, ip.DstIP
	default:
		return src, dst, false
	}
	src, _ = netip.AddrFromSlice(s)
	dst, _ = netip.AddrFromSlice(d)
	return src.Unmap(), dst.Unmap(), true
}

// readyWriter closes ready the first time mark appears in what is written to it.
type readyWriter struct {
	seen  bytes.Buffer
	mark  []byte
	ready chan struct{}
}

func (w *readyWriter) Write(p []byte) (int, error) {
	if w.ready != nil {
		w.seen.Write(p)
		if bytes.Contains(w.seen.Bytes(), w.mark) {
			close(w.ready)
			w.ready = nil
		}
	}
	return len(p), nil
}
