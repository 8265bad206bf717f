//go:build linux

package health

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

// dsrLab is two namespaces joined by a veth pair: a prober (the balancer's
// side) and a real server holding the VIP on lo with the L3DSR DSCP rule.
type dsrLab struct {
	prober, server string
	serverMAC      net.HardwareAddr
}

const (
	labProber  = "198.18.0.1"
	labRIP     = "198.18.0.2"
	labVIP     = "198.18.1.10"
	labProber6 = "2001:db8::1"
	labRIP6    = "2001:db8::2"
	labVIP6    = "2001:db8:1::10"
	labPort    = 80
	labDSCP    = 0x22
)

func run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func newDSRLab(t *testing.T) *dsrLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("DSR-path checks need root (network namespaces, raw sockets)")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("DSR-path test needs %s (apt-get install -y iproute2 nftables)", tool)
		}
	}
	id := fmt.Sprintf("tenbin-hc-%06x", rand.Uint32()&0xffffff)
	lab := &dsrLab{prober: id + "-p", server: id + "-s"}
	for _, ns := range []string{lab.prober, lab.server} {
		run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	}
	// Created inside the prober namespace, peer moved to the server's:
	// the host's interfaces are never touched.
	run(t, "ip", "-n", lab.prober, "link", "add", "p0", "type", "veth", "peer", "name", "s0", "netns", lab.server)
	for _, cmd := range [][]string{
		{"ip", "-n", lab.prober, "addr", "add", labProber + "/24", "dev", "p0"},
		{"ip", "-n", lab.prober, "link", "set", "p0", "up"},
		{"ip", "-n", lab.prober, "link", "set", "lo", "up"},
		// So the prober's kernel can reset the VIP's SYN-ACK.
		{"ip", "-n", lab.prober, "route", "add", labVIP + "/32", "via", labRIP},
		{"ip", "-n", lab.server, "addr", "add", labRIP + "/24", "dev", "s0"},
		{"ip", "-n", lab.server, "link", "set", "s0", "up"},
		{"ip", "-n", lab.server, "link", "set", "lo", "up"},
		{"ip", "-n", lab.server, "addr", "add", labVIP + "/32", "dev", "lo"},
		// The same for IPv6, without duplicate address detection so the
		// addresses are usable at once.
		{"ip", "-n", lab.prober, "addr", "add", labProber6 + "/64", "dev", "p0", "nodad"},
		{"ip", "-n", lab.prober, "route", "add", labVIP6 + "/128", "via", labRIP6},
		{"ip", "-n", lab.server, "addr", "add", labRIP6 + "/64", "dev", "s0", "nodad"},
		{"ip", "-n", lab.server, "addr", "add", labVIP6 + "/128", "dev", "lo", "nodad"},
	} {
		run(t, cmd...)
	}
	for _, ns := range []string{lab.prober, lab.server} {
		for _, dev := range []string{"all", "default", "lo"} {
			run(t, "ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.conf."+dev+".rp_filter=0")
		}
	}
	run(t, "ip", "netns", "exec", lab.server, "sysctl", "-qw", "net.ipv4.conf.s0.rp_filter=0")
	run(t, "ip", "netns", "exec", lab.prober, "sysctl", "-qw", "net.ipv4.conf.p0.rp_filter=0")
	rules := fmt.Sprintf(`table ip t {
	chain pre { type filter hook prerouting priority raw; ip dscp 0x%x ip daddr %s ip daddr set %s notrack; }
	chain out { type filter hook output priority raw; ip saddr %s notrack; }
}
table ip6 t {
	chain pre { type filter hook prerouting priority raw; ip6 dscp 0x%x ip6 daddr %s ip6 daddr set %s notrack; }
	chain out { type filter hook output priority raw; ip6 saddr %s notrack; }
}`, labDSCP, labRIP, labVIP, labVIP, labDSCP, labRIP6, labVIP6, labVIP6)
	cmd := exec.Command("ip", "netns", "exec", lab.server, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v\n%s", err, out)
	}
	inNS(t, lab.server, func() {
		ifc, err := net.InterfaceByName("s0")
		if err != nil {
			t.Fatal(err)
		}
		lab.serverMAC = ifc.HardwareAddr
		// The real server's service listens on every address, the VIP too.
		serveTCP(t, fmt.Sprintf("0.0.0.0:%d", labPort), func(net.Conn) {})
		serveTCP(t, fmt.Sprintf("[::]:%d", labPort), func(net.Conn) {})
	})
	return lab
}

// inNS runs fn on a thread switched into the named namespace. Sockets
// opened there stay in it after fn returns.
func inNS(t *testing.T, name string, fn func()) {
	t.Helper()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	ns, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	if err := netns.Set(ns); err != nil {
		t.Fatal(err)
	}
	defer func() {
		// A thread that cannot go back stays locked and dies with
		// the goroutine rather than serve others in the wrong namespace.
		if err := netns.Set(orig); err == nil {
			runtime.UnlockOSThread()
		}
	}()
	fn()
}

func (lab *dsrLab) check(t *testing.T, target Target) Result {
	t.Helper()
	c, err := New(Spec{Kind: TCP, DSRPath: true}, target)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	var res Result
	inNS(t, lab.prober, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		res = c.Check(ctx)
	})
	return res
}

// target is the real server as the daemon describes it: no interface and no
// MAC, so the check finds both (route and neighbour table).
func (lab *dsrLab) target(mode string) Target {
	return Target{Service: "web", Backend: "rs1", Addr: netip.MustParseAddr(labRIP), Port: labPort,
		VIP: netip.MustParseAddr(labVIP), VIPPort: labPort, Mode: mode, DSCP: labDSCP}
}

func (lab *dsrLab) target6(mode string) Target {
	t := lab.target(mode)
	t.Addr, t.VIP = netip.MustParseAddr(labRIP6), netip.MustParseAddr(labVIP6)
	return t
}

func wantDSRFailure(t *testing.T, res Result, detail ...string) {
	t.Helper()
	if res.Up || !errors.Is(res.Err, ErrDSRPath) {
		t.Fatalf("want a DSR-path failure, got %+v", res)
	}
	for _, d := range append(detail, "plain check passed, DSR path failed") {
		if !strings.Contains(res.Detail, d) {
			t.Errorf("detail %q lacks %q", res.Detail, d)
		}
	}
	t.Logf("detail: %s", res.Detail)
}

func TestDSRPath(t *testing.T) {
	lab := newDSRLab(t)

	t.Run("l3dsr ok", func(t *testing.T) {
		res := lab.check(t, lab.target(ModeL3DSR))
		if !res.Up || !strings.Contains(res.Detail, "DSR path ok") {
			t.Errorf("want up over the DSR path, got %+v", res)
		}
	})
	t.Run("l3dsr wrong DSCP", func(t *testing.T) {
		// The server has no rule for DSCP 10: it answers from its own
		// address, which is what a missing rule looks like.
		tg := lab.target(ModeL3DSR)
		tg.DSCP = 10
		wantDSRFailure(t, lab.check(t, tg), "DSCP 10", "198.18.1.10:80", "is the DSCP rule installed on the real server?")
	})
	t.Run("l2dsr ok", func(t *testing.T) {
		res := lab.check(t, lab.target(ModeL2DSR))
		if !res.Up || !strings.Contains(res.Detail, "DSR path ok") {
			t.Errorf("want up over the DSR path, got %+v", res)
		}
	})
	t.Run("l2dsr ok with configured interface and MAC", func(t *testing.T) {
		tg := lab.target(ModeL2DSR)
		tg.Iface, tg.MAC = "p0", lab.serverMAC
		if res := lab.check(t, tg); !res.Up || !strings.Contains(res.Detail, "DSR path ok") {
			t.Errorf("want up over the DSR path, got %+v", res)
		}
	})
	t.Run("l2dsr wrong MAC", func(t *testing.T) {
		tg := lab.target(ModeL2DSR)
		tg.MAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x99}
		wantDSRFailure(t, lab.check(t, tg), "02:00:00:00:00:99 on p0", "loopback")
	})
	for _, mode := range []string{ModeL3DSR, ModeL2DSR} {
		t.Run(mode+" ipv6 ok", func(t *testing.T) {
			res := lab.check(t, lab.target6(mode))
			if !res.Up || !strings.Contains(res.Detail, "DSR path ok") {
				t.Errorf("want up over the IPv6 DSR path, got %+v", res)
			}
		})
	}
	t.Run("l3dsr ipv6 wrong DSCP", func(t *testing.T) {
		tg := lab.target6(ModeL3DSR)
		tg.DSCP = 10
		wantDSRFailure(t, lab.check(t, tg), "DSCP 10", "came from 2001:db8::2", "[2001:db8:1::10]:80")
	})
	t.Run("plain check fails first", func(t *testing.T) {
		tg := lab.target(ModeL3DSR)
		tg.Port, tg.VIPPort = 81, 81
		res := lab.check(t, tg)
		if res.Up || errors.Is(res.Err, ErrDSRPath) || !strings.HasPrefix(res.Detail, "plain check failed") {
			t.Errorf("want the plain check's failure, got %+v", res)
		}
	})
	t.Run("VIP missing on the real server", func(t *testing.T) {
		run(t, "ip", "-n", lab.server, "addr", "del", labVIP+"/32", "dev", "lo")
		wantDSRFailure(t, lab.check(t, lab.target(ModeL2DSR)), "VIP 198.18.1.10:80", "loopback")
		wantDSRFailure(t, lab.check(t, lab.target(ModeL3DSR)), "DSCP 34")
		run(t, "ip", "-n", lab.server, "addr", "del", labVIP6+"/128", "dev", "lo")
		wantDSRFailure(t, lab.check(t, lab.target6(ModeL2DSR)), "VIP [2001:db8:1::10]:80", "loopback")
		wantDSRFailure(t, lab.check(t, lab.target6(ModeL3DSR)), "DSCP 34")
	})
}
