package realserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// The integration test runs setup, check and teardown for real, inside a network namespace it
// creates, by re-running this test binary under `ip netns exec`: the whole child process lives in
// the namespace, so nothing it does (addresses, /proc/sys/net, nft) can reach the host's.

const (
	childStepEnv   = "TENBIN_RS_TEST_STEP"    // setup, check or teardown
	childSpecEnv   = "TENBIN_RS_TEST_SPEC"    // the Spec as JSON
	childStateEnv  = "TENBIN_RS_TEST_STATE"   // state file path
	childHostNSEnv = "TENBIN_RS_TEST_HOST_NS" // the parent's netns inode, which the child must not be in
)

func TestMain(m *testing.M) {
	if step := os.Getenv(childStepEnv); step != "" {
		os.Exit(runChildStep(step))
	}
	os.Exit(m.Run())
}

type childResult struct {
	Changes  []string
	Findings []Finding
	Error    string
}

func netnsInode() (uint64, error) {
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/self/ns/net", &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

func runChildStep(step string) int {
	if ino, err := netnsInode(); err != nil || fmt.Sprint(ino) == os.Getenv(childHostNSEnv) {
		fmt.Fprintln(os.Stderr, "refusing to run: not inside the test's network namespace")
		return 3
	}
	var spec Spec
	if err := json.Unmarshal([]byte(os.Getenv(childSpecEnv)), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "bad spec:", err)
		return 3
	}
	ctx := context.Background()
	opt := Options{StatePath: os.Getenv(childStateEnv)}
	var res Result
	var err error
	switch step {
	case "setup":
		res, err = Setup(ctx, DefaultKernel(), spec, opt)
	case "teardown":
		res, err = Teardown(ctx, DefaultKernel(), opt)
	case "check":
		res.Findings, err = Check(ctx, DefaultKernel(), spec)
	}
	out := childResult{Changes: changeLines(res.Changes), Findings: res.Findings}
	if err != nil {
		out.Error = err.Error()
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
	return 0
}

// labNetns is a network namespace the test owns: one veth pair (rs0 toward "the balancer"),
// the RIPs on rs0, strict rp_filter as many distributions ship.
type labNetns struct {
	t    *testing.T
	name string
	ip   string
}

func newLabNetns(t *testing.T) *labNetns {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root to create a network namespace (run `sudo go test ./realserver/`)")
	}
	ip, err := exec.LookPath("ip")
	if err != nil {
		ip = "/usr/sbin/ip"
	}
	if _, ok := (&Kernel{}).nft(); !ok {
		t.Skip("skipping: nft not found (apt-get install -y nftables)")
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	n := &labNetns{t: t, name: "tenbin-rs-test-" + hex.EncodeToString(suffix), ip: ip}
	if out, err := exec.Command(ip, "netns", "add", n.name).CombinedOutput(); err != nil {
		t.Skipf("skipping: cannot create a network namespace: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(ip, "netns", "del", n.name).CombinedOutput(); err != nil {
			t.Errorf("delete netns %s: %v: %s", n.name, err, out)
		}
	})
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"link", "add", "rs0", "type", "veth", "peer", "name", "rs0p"},
		{"link", "set", "rs0", "up"},
		{"link", "set", "rs0p", "up"},
		{"addr", "add", "198.18.1.2/24", "dev", "rs0"},
		{"addr", "add", "2001:db8:1::2/64", "dev", "rs0", "nodad"},
	} {
		n.run(append([]string{n.ip, "-n", n.name}, args...)...)
	}
	n.sysctl("net.ipv4.conf.all.rp_filter", "1")
	n.sysctl("net.ipv4.conf.rs0.rp_filter", "1")
	return n
}

// run runs a command, in the namespace only when the caller says so (ip -n / ip netns exec).
func (n *labNetns) run(args ...string) string {
	n.t.Helper()
	out, err := exec.Command(args[0], args[1:]...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		n.t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, stderr)
	}
	return string(out)
}

func (n *labNetns) exec(args ...string) string {
	n.t.Helper()
	return n.run(append([]string{n.ip, "netns", "exec", n.name}, args...)...)
}

func (n *labNetns) sysctl(key, value string) {
	n.t.Helper()
	n.exec("sysctl", "-q", "-w", key+"="+value)
}

func (n *labNetns) readSysctl(key string) string {
	n.t.Helper()
	return strings.TrimSpace(n.exec("sysctl", "-n", key))
}

func (n *labNetns) loAddrs() []string {
	n.t.Helper()
	var links []struct {
		AddrInfo []struct {
			Local     string `json:"local"`
			Prefixlen int    `json:"prefixlen"`
		} `json:"addr_info"`
	}
	if err := json.Unmarshal([]byte(n.run(n.ip, "-n", n.name, "-j", "addr", "show", "dev", "lo")), &links); err != nil {
		n.t.Fatal(err)
	}
	var out []string
	for _, l := range links {
		for _, a := range l.AddrInfo {
			out = append(out, fmt.Sprintf("%s/%d", a.Local, a.Prefixlen))
		}
	}
	return out
}

func (n *labNetns) nftTables() string {
	n.t.Helper()
	return n.exec("nft", "list", "tables")
}

// step runs one realserver step inside the namespace.
func (n *labNetns) step(step string, spec Spec, state string) childResult {
	n.t.Helper()
	self, err := os.Executable()
	if err != nil {
		n.t.Fatal(err)
	}
	specJSON, _ := json.Marshal(spec)
	ino, err := netnsInode()
	if err != nil {
		n.t.Fatal(err)
	}
	cmd := exec.Command(n.ip, "netns", "exec", n.name, self, "-test.run=^$")
	cmd.Env = append(os.Environ(), childStepEnv+"="+step, childSpecEnv+"="+string(specJSON),
		childStateEnv+"="+state, fmt.Sprintf("%s=%d", childHostNSEnv, ino))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		n.t.Fatalf("%s in netns: %v: %s", step, err, stderr.String())
	}
	var r childResult
	if err := json.Unmarshal(out, &r); err != nil {
		n.t.Fatalf("%s in netns: %v: %s", step, err, out)
	}
	if r.Error != "" {
		n.t.Fatalf("%s in netns: %s", step, r.Error)
	}
	return r
}

// hostSnapshot is what the test must never change in the host's own namespace.
func hostSnapshot(t *testing.T) string {
	var b strings.Builder
	for _, k := range []string{"all/arp_ignore", "all/arp_announce", "all/rp_filter", "default/arp_ignore", "lo/arp_ignore", "lo/arp_announce"} {
		v, _ := os.ReadFile("/proc/sys/net/ipv4/conf/" + k)
		fmt.Fprintf(&b, "%s=%s", k, v)
	}
	out, _ := exec.Command("ip", "addr", "show", "dev", "lo").Output()
	b.Write(out)
	out, _ = exec.Command("nft", "list", "tables").Output()
	b.Write(out)
	return b.String()
}

func TestSetupCheckTeardownInNetns(t *testing.T) {
	n := newLabNetns(t)
	host := hostSnapshot(t)
	t.Cleanup(func() {
		if now := hostSnapshot(t); now != host {
			t.Errorf("the host's own namespace changed:\n%s\nwas\n%s", now, host)
		}
	})
	state := t.TempDir() + "/realserver.json"

	cases := []struct {
		spec      Spec
		wantLo    []string
		sysctls   map[string]string // after setup
		tables    []string
		wantFirst []FindingKind
	}{
		{
			spec:   Spec{Mode: ModeL2DSR, VIPs: []VIP{vip("198.18.0.10", 0), vip("2001:db8::10", 0)}},
			wantLo: []string{"198.18.0.10/32", "2001:db8::10/128"},
			sysctls: map[string]string{"net.ipv4.conf.all.arp_ignore": "1", "net.ipv4.conf.all.arp_announce": "2",
				"net.ipv4.conf.lo.arp_ignore": "1", "net.ipv4.conf.lo.arp_announce": "2", "net.ipv4.conf.rs0.rp_filter": "1"},
			wantFirst: []FindingKind{FindingVIPMissing, FindingVIPMissing, FindingArpIgnore, FindingArpAnnounce},
		},
		{
			spec:      l3dsrSpec(vip("198.18.0.10", 0x22), vip("198.18.0.11", 0x24), vip("2001:db8::10", 0x22)),
			wantLo:    []string{"198.18.0.10/32", "198.18.0.11/32", "2001:db8::10/128"},
			sysctls:   map[string]string{"net.ipv4.conf.all.rp_filter": "2", "net.ipv4.conf.rs0.rp_filter": "2", "net.ipv4.conf.all.arp_ignore": "0"},
			tables:    []string{"table ip tenbin_l3dsr", "table ip6 tenbin_l3dsr6"},
			wantFirst: []FindingKind{FindingVIPMissing, FindingVIPMissing, FindingVIPMissing, FindingRPFilterStrict, FindingDSCPRuleMissing, FindingDSCPRuleMissing, FindingTracked, FindingTracked, FindingDSCPRuleMissing, FindingTracked},
		},
	}
	for _, c := range cases {
		t.Run(string(c.spec.Mode), func(t *testing.T) {
			n.t = t
			loBefore := n.loAddrs()
			sysctlsBefore := map[string]string{}
			for k := range c.sysctls {
				sysctlsBefore[k] = n.readSysctl(k)
			}

			if r := n.step("check", c.spec, state); !slices.Equal(kinds(r.Findings), c.wantFirst) {
				t.Errorf("check before setup: %v, want %v", kinds(r.Findings), c.wantFirst)
			}
			if r := n.step("setup", c.spec, state); len(r.Changes) == 0 || len(r.Findings) != 0 {
				t.Fatalf("setup: changes %q, findings %+v", r.Changes, r.Findings)
			}
			if r := n.step("setup", c.spec, state); len(r.Changes) != 0 {
				t.Errorf("second setup changed %q, want nothing", r.Changes)
			}
			if r := n.step("check", c.spec, state); len(r.Findings) != 0 {
				t.Errorf("check after setup: %+v, want healthy", r.Findings)
			}
			for _, a := range c.wantLo {
				if !slices.Contains(n.loAddrs(), a) {
					t.Errorf("after setup lo has %v, want %s", n.loAddrs(), a)
				}
			}
			for k, want := range c.sysctls {
				if got := n.readSysctl(k); got != want {
					t.Errorf("after setup %s = %s, want %s", k, got, want)
				}
			}
			tables := n.nftTables()
			for _, tb := range c.tables {
				if !strings.Contains(tables, tb) {
					t.Errorf("after setup nft tables:\n%s\nwant %s", tables, tb)
				}
			}
			if len(c.tables) > 0 {
				rules := n.exec("nft", "list", "table", "ip", "tenbin_l3dsr")
				if !strings.Contains(rules, "ip daddr 198.18.1.2 ip daddr set 198.18.0.11 notrack") {
					t.Errorf("ruleset in the kernel:\n%s", rules)
				}
			}

			if r := n.step("teardown", c.spec, state); len(r.Changes) == 0 {
				t.Errorf("teardown changed nothing")
			}
			if r := n.step("check", c.spec, state); !slices.Equal(kinds(r.Findings), c.wantFirst) {
				t.Errorf("check after teardown: %v, want %v", kinds(r.Findings), c.wantFirst)
			}
			if got := n.loAddrs(); !slices.Equal(got, loBefore) {
				t.Errorf("after teardown lo has %v, want %v", got, loBefore)
			}
			for k, want := range sysctlsBefore {
				if got := n.readSysctl(k); got != want {
					t.Errorf("after teardown %s = %s, want %s as before setup", k, got, want)
				}
			}
			if tables := n.nftTables(); strings.Contains(tables, "tenbin") {
				t.Errorf("after teardown nft tables:\n%s", tables)
			}
			if _, err := os.Stat(state); err == nil {
				t.Errorf("state file %s left after teardown", state)
			}
			if r := n.step("teardown", c.spec, state); len(r.Changes) != 0 {
				t.Errorf("second teardown changed %q", r.Changes)
			}
		})
	}
}
