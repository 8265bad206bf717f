package proxy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"golang.org/x/sys/unix"
)

// tunPeer is the far end of a tun device: the test plays a client whose segments a full-NAT
// balancer rewrote, so the SYN carries the TOA option, which no socket API can send.
type tunPeer struct {
	t    *testing.T
	f    *os.File
	src  net.IP // the peer's address (the balancer's local address, as the proxy sees it)
	dst  net.IP
	port uint16 // the peer's port
}

// openTun creates a tun device named name in the calling thread's network namespace. The
// file is made from a non-blocking descriptor after TUNSETIFF, so reads take deadlines.
func openTun(t *testing.T, name string) *os.File {
	t.Helper()
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var req [unix.IFNAMSIZ + 64]byte
	copy(req[:], name)
	*(*uint16)(unsafe.Pointer(&req[unix.IFNAMSIZ])) = unix.IFF_TUN | unix.IFF_NO_PI
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETIFF, uintptr(unsafe.Pointer(&req[0]))); errno != 0 {
		unix.Close(fd)
		t.Fatalf("TUNSETIFF: %v", errno)
	}
	return os.NewFile(uintptr(fd), "/dev/net/tun")
}

func (p *tunPeer) send(seq, ack uint32, syn bool, payload []byte, opts ...layers.TCPOption) {
	p.t.Helper()
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 63, Protocol: layers.IPProtocolTCP, SrcIP: p.src, DstIP: p.dst}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(p.port), DstPort: 8080, Seq: seq, Ack: ack, SYN: syn, ACK: !syn,
		PSH: len(payload) > 0, Window: 65535, Options: opts}
	_ = tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		ip, tcp, gopacket.Payload(payload)); err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.f.Write(buf.Bytes()); err != nil {
		p.t.Fatal(err)
	}
}

// next is the next TCP segment the proxy sends the peer.
func (p *tunPeer) next(deadline time.Time) *layers.TCP {
	p.t.Helper()
	buf := make([]byte, 65536)
	for {
		_ = p.f.SetReadDeadline(deadline)
		n, err := p.f.Read(buf)
		if err != nil {
			p.t.Fatalf("reading the tun: %v", err)
		}
		pkt := gopacket.NewPacket(buf[:n], layers.LayerTypeIPv4, gopacket.Default)
		tcp, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tcp != nil && uint16(tcp.DstPort) == p.port {
			return tcp
		}
	}
}

// TestAcceptTOATakesTheClientFromTheBalancersOption: behind tenbin's fnat the proxy's peer
// is the balancer's local address; the client's address arrives in the SYN's TOA option.
// A listener with accept_toa routes on it and sends it on as X-Forwarded-For.
func TestAcceptTOATakesTheClientFromTheBalancersOption(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: a network namespace and a tun device")
	}
	// The backend listens in this namespace (the proxy dials it from other threads); the
	// proxy's listener and the tun live in a namespace of the test's own, entered by this
	// thread only (never unlocked: the thread ends with the test).
	be := startBackend(t, "b", nil)
	ns := fmt.Sprintf("tbtoa-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	runtime.LockOSThread()
	nsf, err := os.Open("/run/netns/" + ns)
	if err != nil {
		t.Fatal(err)
	}
	defer nsf.Close()
	if err := unix.Setns(int(nsf.Fd()), unix.CLONE_NEWNET); err != nil {
		t.Fatal(err)
	}
	tun := openTun(t, "tbtoa0")
	defer tun.Close()
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"addr", "add", "198.18.99.1/24", "dev", "tbtoa0"},
		{"link", "set", "tbtoa0", "up"},
	} {
		if out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
	rp := startProxy(t, fmt.Sprintf(`
listeners: [{name: web, kind: http, address: "198.18.99.1:8080", accept_toa: true}]
routes: [{name: carried, match: {sources: [198.18.7.0/24]}, pool: p}]
pools: [{name: p, backends: [{name: b1, address: %q}]}]
`, be.addr))
	_ = rp

	peer := &tunPeer{t: t, f: tun, src: net.IP{198, 18, 99, 2}, dst: net.IP{198, 18, 99, 1}, port: 40000}
	deadline := time.Now().Add(10 * time.Second)
	toa := layers.TCPOption{OptionType: 254, OptionLength: 8, OptionData: []byte{0xc3, 0x50, 198, 18, 7, 7}} // 198.18.7.7:50000
	mss := layers.TCPOption{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}}
	const isn = 1000
	peer.send(isn, 0, true, nil, mss, toa)
	synack := peer.next(deadline)
	if !synack.SYN || !synack.ACK || synack.Ack != isn+1 {
		t.Fatalf("want the SYN-ACK, got flags SYN %v ACK %v ack %d", synack.SYN, synack.ACK, synack.Ack)
	}
	req := []byte("GET /who HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	peer.send(isn+1, synack.Seq+1, false, req)
	// Collect the response in order, acknowledging as it comes, until it parses whole.
	var got bytes.Buffer
	want := synack.Seq + 1
	for {
		seg := peer.next(deadline)
		if len(seg.Payload) > 0 && seg.Seq == want {
			got.Write(seg.Payload)
			want += uint32(len(seg.Payload))
			peer.send(isn+1+uint32(len(req)), want, false, nil)
		}
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(got.Bytes())), nil)
		if err != nil {
			continue
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			continue // the body is not all here yet
		}
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"X-Forwarded-For":["198.18.7.7"]`) {
			t.Fatalf("status %d, body %s: want 200 from the route for 198.18.7.0/24 with X-Forwarded-For 198.18.7.7",
				resp.StatusCode, body)
		}
		return
	}
}
