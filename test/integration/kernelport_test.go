package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"tenbin/control/config"
	"tenbin/control/daemon"
	"tenbin/control/shm"
)

// The kernel-port lab: three namespaces of the test's own (tbt-kt<id>-*), addresses from
// 198.18.40.0/24 and 2001:db8:40::/64 only.
//
//	tbt-…-dp   tenbin-dataplane on dp0 (net_af_packet), its kernel tap tb-0 = the host:
//	           198.18.40.1, 2001:db8:40::1, an HTTP server on 198.18.40.1:80
//	tbt-…-cl   the client: bridge br0 198.18.40.2, 2001:db8:40::2; ports to dp0 and to rs1
//	tbt-…-rs   real server rs1 198.18.40.21, VIP 198.18.40.100 on lo (l2dsr), HTTP on :80
const (
	ktHost    = "198.18.40.1"
	ktHost6   = "2001:db8:40::1"
	ktClient  = "198.18.40.2"
	ktClient6 = "2001:db8:40::2"
	ktRS      = "198.18.40.21"
	ktVIP     = "198.18.40.100"
	ktPrefix  = "tbt-kt"
)

type kernelPortLab struct {
	dp, cl, rs string // namespaces
	rsMAC      string
}

// sh runs a command and fails the test with its output when it fails.
func sh(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// removeStaleKernelPortLabs deletes namespaces an earlier run of this test left behind when
// it was killed before its cleanup: older than any run takes, with nothing running in them.
func removeStaleKernelPortLabs() {
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(line, " ")
		if !strings.HasPrefix(name, ktPrefix) {
			continue
		}
		if fi, err := os.Stat("/run/netns/" + name); err != nil || time.Since(fi.ModTime()) < time.Minute {
			continue
		}
		if pids, _ := exec.Command("ip", "netns", "pids", name).Output(); len(bytes.TrimSpace(pids)) == 0 {
			exec.Command("ip", "netns", "del", name).Run()
		}
	}
}

func newKernelPortLab(t *testing.T) *kernelPortLab {
	t.Helper()
	removeStaleKernelPortLabs()
	id := fmt.Sprintf("%s%04x", ktPrefix, rand.Uint32()&0xffff)
	l := &kernelPortLab{dp: id + "-dp", cl: id + "-cl", rs: id + "-rs"}
	for _, ns := range []string{l.dp, l.cl, l.rs} {
		sh(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { killNamespace(ns) })
		sh(t, "ip", "-n", ns, "link", "set", "lo", "up")
		sh(t, "ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0",
			"net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.accept_ra=0", "net.ipv6.conf.default.accept_ra=0")
	}
	// Created inside our namespaces only: the host's interfaces are never touched.
	sh(t, "ip", "-n", l.cl, "link", "add", "br0", "type", "bridge", "forward_delay", "0", "stp_state", "0")
	sh(t, "ip", "-n", l.dp, "link", "add", "dp0", "type", "veth", "peer", "name", "v-dp", "netns", l.cl)
	sh(t, "ip", "-n", l.rs, "link", "add", "eth0", "type", "veth", "peer", "name", "v-rs", "netns", l.cl)
	for _, cmd := range [][]string{
		{"ip", "-n", l.cl, "link", "set", "v-dp", "master", "br0", "up"},
		{"ip", "-n", l.cl, "link", "set", "v-rs", "master", "br0", "up"},
		{"ip", "-n", l.cl, "link", "set", "br0", "up"},
		{"ip", "-n", l.cl, "addr", "add", ktClient + "/24", "dev", "br0"},
		{"ip", "-n", l.cl, "addr", "add", ktClient6 + "/64", "dev", "br0", "nodad"},
		// The dataplane owns dp0: the kernel in its namespace must neither answer on it
		// nor see what arrives there (net_af_packet reads frames before the ingress hook),
		// or it would answer for the tap's addresses itself and bypass the dataplane.
		{"ip", "netns", "exec", l.dp, "sysctl", "-qw", "net.ipv6.conf.dp0.disable_ipv6=1"},
		{"ip", "-n", l.dp, "link", "set", "dp0", "up"},
		{"ip", "-n", l.rs, "addr", "add", ktRS + "/24", "dev", "eth0"},
		{"ip", "-n", l.rs, "addr", "add", ktVIP + "/32", "dev", "lo"},
		{"ip", "netns", "exec", l.rs, "sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2"},
		{"ip", "-n", l.rs, "link", "set", "eth0", "up"},
	} {
		sh(t, cmd...)
	}
	nft := exec.Command("ip", "netns", "exec", l.dp, "nft", "-f", "-")
	nft.Stdin = strings.NewReader("table netdev tbt {\n chain in { type filter hook ingress device dp0 priority 0; policy drop; }\n}\n")
	if out, err := nft.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v\n%s", err, out)
	}
	// Segment and checksum offloads off, so frames cross af_packet whole and checksummed.
	for _, d := range [][2]string{{l.cl, "br0"}, {l.cl, "v-dp"}, {l.rs, "eth0"}, {l.dp, "dp0"}} {
		exec.Command("ip", "netns", "exec", d[0], "ethtool", "-K", d[1], "rx", "off", "tx", "off", "tso", "off", "gso", "off", "gro", "off").Run()
	}
	var link []struct {
		Address string `json:"address"`
	}
	if err := json.Unmarshal([]byte(sh(t, "ip", "-n", l.rs, "-j", "link", "show", "eth0")), &link); err != nil || len(link) != 1 {
		t.Fatalf("rs1's MAC: %v", err)
	}
	l.rsMAC = link[0].Address
	return l
}

// killNamespace ends what still runs in ns (TERM, then KILL) and deletes it.
func killNamespace(ns string) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		out, _ := exec.Command("ip", "netns", "pids", ns).Output()
		pids := strings.Fields(string(out))
		for _, p := range pids {
			var pid int
			fmt.Sscan(p, &pid)
			syscall.Kill(pid, sig)
		}
		for i := 0; len(pids) > 0 && i < 20; i++ {
			time.Sleep(50 * time.Millisecond)
			out, _ = exec.Command("ip", "netns", "pids", ns).Output()
			pids = strings.Fields(string(out))
		}
	}
	exec.Command("ip", "netns", "del", ns).Run()
}

// start runs a command in a namespace until the test ends; it dies with the test process.
func start(t *testing.T, ns string, log *bytes.Buffer, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return cmd
}

// loadResult is what `labtool load` prints (test/labtool).
type loadResult struct {
	OK      int            `json:"ok"`
	Servers map[string]int `json:"servers"`
	Errors  map[string]int `json:"errors"`
}

func (l *kernelPortLab) load(t *testing.T, labtool, url string, n int) loadResult {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", l.cl, labtool, "load", "-url", url, "-n", fmt.Sprint(n), "-c", "2", "-timeout", "1s").Output()
	if err != nil {
		t.Fatalf("labtool load %s: %v\n%s", url, err, out)
	}
	var r loadResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("labtool load %s: %v\n%s", url, err, out)
	}
	return r
}

func kernelPortConfig(t *testing.T, rsMAC string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("kernel-port-test.yaml", []byte(fmt.Sprintf(`dataplane:
  ports:
    - {name: p0, ipv4: 198.18.40.3/24}
services:
  - name: web
    vip: %s
    port: 80
    mode: l2dsr
    ingress_port: p0
    egress_port: p0
    health_check: {kind: none}
    backends:
      - {name: rs1, address: %s, mac: "%s"}
`, ktVIP, ktRS, rsMAC)))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestKernelPortCarriesHostTraffic runs tenbin-dataplane --kernel-port on a veth and shows
// what an operator would check: the host stack on the tap (its own address, not a VIP) is
// reachable through the data port — ARP and NDP, ping, HTTP, wire → dataplane → tap →
// kernel and back — while HTTP to the VIP on the same port is still balanced to the real
// server, and nothing of either is dropped.
func TestKernelPortCarriesHostTraffic(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the dataplane binary in network namespaces")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces, raw sockets, tap devices)")
	}
	for _, tool := range []string{"ip", "nft", "ping"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (make deps)", tool)
		}
	}
	dir := t.TempDir()
	bin, labtool := filepath.Join(dir, "tenbin-dataplane"), filepath.Join(dir, "labtool")
	for b, pkg := range map[string]string{bin: "tenbin/cmd/tenbin-dataplane", labtool: "tenbin/test/labtool"} {
		if out, err := exec.Command("go", "build", "-o", b, pkg).CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", pkg, err, out)
		}
	}
	// With two lcores and two af_packet queue pairs, lcore 1 sends into its own tx queue of
	// the tap and the kernel spreads its replies over both tap queues, which lcore 0 polls.
	for _, v := range []struct {
		name, lcores, qpairs string
		slots                uint32
	}{{"one-lcore", "0", "1", 1}, {"two-lcores", "0,1", "2", 2}} {
		t.Run(v.name, func(t *testing.T) {
			runKernelPortLab(t, bin, labtool, v.lcores, v.qpairs, v.slots)
		})
	}
}

func runKernelPortLab(t *testing.T, bin, labtool, lcores, qpairs string, slots uint32) {
	l := newKernelPortLab(t)
	regionPath := filepath.Join(t.TempDir(), "region")
	r, err := shm.OpenOrCreate(regionPath, shm.Params{Lcores: slots, LUTCapacity: 1 << 17, FlowEntries: 1 << 12})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cfg := kernelPortConfig(t, l.rsMAC)
	res, err := daemon.NewBuilder().Build(daemon.Inputs{Config: cfg, Health: upHealth(cfg), Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := shm.NewWriter(r).Publish(context.Background(), res.Desired); err != nil {
		t.Fatal(err)
	}

	var dpLog bytes.Buffer
	start(t, l.dp, &dpLog, bin, "--port", "net_af_packet0,iface=dp0,qpairs="+qpairs, "--kernel-port", "--shm", regionPath,
		"--lcores", lcores, "--lcore-slots", fmt.Sprint(slots), "--flow-entries", "4096", "--lut-capacity", fmt.Sprint(1<<17), "--mem", "128")
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command("ip", "-n", l.dp, "link", "show", "tb-0").Run() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("no kernel port tb-0 after 10 s; dataplane log:\n%s", dpLog.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	var tap []struct {
		Address string `json:"address"`
	}
	json.Unmarshal([]byte(sh(t, "ip", "-n", l.dp, "-j", "link", "show", "tb-0")), &tap)
	var dp0 []struct {
		Address string `json:"address"`
	}
	json.Unmarshal([]byte(sh(t, "ip", "-n", l.dp, "-j", "link", "show", "dp0")), &dp0)
	if len(tap) != 1 || len(dp0) != 1 || tap[0].Address != dp0[0].Address {
		t.Errorf("tb-0's MAC %v, want dp0's %v", tap, dp0)
	}
	sh(t, "ip", "-n", l.dp, "addr", "add", ktHost+"/24", "dev", "tb-0")
	sh(t, "ip", "-n", l.dp, "addr", "add", ktHost6+"/64", "dev", "tb-0", "nodad")
	var hostLog, rsLog bytes.Buffer
	start(t, l.dp, &hostLog, labtool, "serve", "-name", "host", "-listen", ktHost+":80")
	start(t, l.rs, &rsLog, labtool, "serve", "-name", "rs1", "-listen", ":80")
	defer func() {
		if t.Failed() {
			t.Logf("dataplane log:\n%s\nhost server:\n%s\nrs1:\n%s", dpLog.String(), hostLog.String(), rsLog.String())
		}
	}()
	// Both servers answer before the counted runs (they start in parallel with us).
	for _, url := range []string{"http://" + ktHost + "/", "http://" + ktVIP + "/"} {
		for r := (loadResult{}); r.OK == 0; r = l.load(t, labtool, url, 1) {
			if time.Now().After(deadline) {
				t.Fatalf("%s never answered: %v", url, r.Errors)
			}
		}
	}
	before := kernelPortCounters(r)

	t.Run("ping-host", func(t *testing.T) {
		for _, addr := range []string{ktHost, ktHost6} {
			out, err := exec.Command("ip", "netns", "exec", l.cl, "ping", "-c", "3", "-i", "0.2", "-W", "1", addr).CombinedOutput()
			if err != nil || !strings.Contains(string(out), " 3 received") || strings.Contains(string(out), "duplicates") {
				t.Errorf("ping %s through the kernel port: %v\n%s", addr, err, out)
			}
		}
	})
	t.Run("http-host", func(t *testing.T) {
		if r := l.load(t, labtool, "http://"+ktHost+"/", 20); r.OK != 20 || r.Servers["host"] != 20 {
			t.Errorf("HTTP to the host's address on the tap: %+v, want 20 answers from host", r)
		}
	})
	t.Run("http-vip", func(t *testing.T) {
		if r := l.load(t, labtool, "http://"+ktVIP+"/", 20); r.OK != 20 || r.Servers["rs1"] != 20 {
			t.Errorf("HTTP to the VIP: %+v, want 20 answers from rs1 (balanced, not the host)", r)
		}
	})

	after := kernelPortCounters(r)
	t.Logf("counters during the runs: kernel_pkts +%d (by lcore, since start: %v), web service pkts +%d, drops +%d",
		after.kernel-before.kernel, after.kernelBySlot, after.service-before.service, after.drops-before.drops)
	// ping: 6 echoes; HTTP: 20 connections of at least 4 client segments each (SYN, ACK,
	// request, FIN).
	if d := after.kernel - before.kernel; d < 6+20*4 {
		t.Errorf("kernel_pkts +%d, want at least %d (every client packet to the host)", d, 6+20*4)
	}
	if d := after.service - before.service; d < 20*4 {
		t.Errorf("web service pkts +%d, want at least %d (every client packet to the VIP)", d, 20*4)
	}
	if d := after.drops - before.drops; d != 0 {
		t.Errorf("%d packets dropped during the runs (%v)", d, after.dropped)
	}
}

type kernelPortCount struct {
	kernel, service, drops uint64
	kernelBySlot           []uint64
	dropped                map[string]uint64
}

// kernelPortCounters sums the lcores' counters; the web service's by its name.
func kernelPortCounters(r *shm.Region) kernelPortCount {
	cs := r.ConfigSet(r.ActiveIndex())
	k := kernelPortCount{dropped: map[string]uint64{}}
	for slot := 0; slot < int(r.Header().NLcores); slot++ {
		c := r.Counters(slot)
		k.kernel += c.Global[shm.CtrKernelPkts]
		k.kernelBySlot = append(k.kernelBySlot, c.Global[shm.CtrKernelPkts])
		for i := range cs.Services {
			if shm.CString(cs.Services[i].Name[:]) == "web" {
				k.service += c.Service[i][shm.ObjPkts]
			}
		}
		for i, d := range c.Drops[:len(shm.DropReasonNames)] {
			k.drops += d
			k.dropped[shm.DropReasonNames[i]] += d
		}
	}
	return k
}
