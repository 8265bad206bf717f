package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestLongLivedConnectionsStayWhileBackendsChange: connections that are open while a fourth
// backend is added to every service and rs1's weight doubles keep their server and lose no
// request, while new connections already use the new table.
func TestLongLivedConnectionsStayWhileBackendsChange(t *testing.T) {
	l := requireLab(t)
	gateway := l.routerMAC(t, "brB")
	if _, err := os.Stat("/run/netns/" + labPrefix + "-rs4"); err != nil {
		if out, err := l.script("add-server", "4"); err != nil {
			t.Fatalf("lab.sh add-server 4: %v\n%s", err, out)
		}
	}
	// A bridge left to pick its own MAC takes its lowest port's: a new server could change the
	// servers' gateway under their ARP caches and lose DSR replies for seconds.
	if now := l.routerMAC(t, "brB"); now != gateway {
		t.Fatalf("adding rs4 changed the servers' gateway MAC from %s to %s", gateway, now)
	}
	changed := filepath.Join(t.TempDir(), "lab-rs4.yaml")
	writeChangedConfig(t, l.config, changed)

	var held []*heldConn
	for _, svc := range services {
		for range 2 {
			held = append(held, l.startHold(t, svc.url))
		}
	}
	t.Cleanup(func() {
		// Back to the lab's configuration: rs4 leaves every service, rs1 gets its weight back.
		if _, err := l.cli("config", "apply", l.config); err != nil {
			t.Errorf("restoring %s: %v", l.config, err)
		}
	})
	l.mustCLI(t, "config", "apply", changed)
	took, ok := waitFor(10*time.Second, func() bool {
		bs, err := l.backends()
		if err != nil {
			return false
		}
		up := 0
		for _, b := range bs {
			if b.Name == "rs4" && b.Health == "up" {
				up++
			}
		}
		return up == len(services)
	})
	if !ok {
		t.Fatalf("rs4 not up in every service %v after the config was applied", took)
	}
	r := l.load(t, services[0].url, 600)
	t.Logf("rs4 up in every service %v after `config apply`; new connections to %s: %v", took.Round(10*time.Millisecond), services[0].name, r)
	if r.failed() != 0 {
		t.Errorf("new connections failed while the backends changed: %v", r)
	}
	if r.Servers["rs4"] == 0 || r.Servers["rs1"] <= r.Servers["rs2"] {
		t.Errorf("new connections do not follow the new table (rs4 added, rs1 weight 200): %v", r)
	}
	for _, h := range held {
		r := h.stop(t)
		checkStayed(t, h, r)
		t.Logf("held %s on %s: %d requests, %d errors, servers %v", h.url, h.server, r.Requests, r.Errors, r.Servers)
	}
}

// routerMAC is the MAC address of an interface in the lab's router namespace.
func (l *lab) routerMAC(t *testing.T, ifname string) string {
	t.Helper()
	out, err := exec.Command("ip", "-n", labPrefix+"-router", "-br", "link", "show", ifname).CombinedOutput()
	f := strings.Fields(string(out))
	if err != nil || len(f) < 3 {
		t.Fatalf("ip link show %s in the router: %v %s", ifname, err, out)
	}
	return f[2]
}

// writeChangedConfig writes a copy of the lab configuration to dst in which every service has
// a fourth backend rs4 (198.18.10.14 / 2001:db8:10::14) and rs1 has weight 200.
func writeChangedConfig(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	rs3 := regexp.MustCompile(`(?m)^(\s+)- \{name: rs3, address: (\S+)13\}$`)
	rs1 := regexp.MustCompile(`\{name: rs1, address: (\S+)\}`)
	if n, m := len(rs3.FindAll(b, -1)), len(rs1.FindAll(b, -1)); n != len(services) || m != len(services) {
		t.Fatalf("%s: expected rs1 and rs3 once per service as {name: rsN, address: A}, found %d and %d", src, m, n)
	}
	b = rs3.ReplaceAll(b, []byte("$0\n$1- {name: rs4, address: ${2}14}"))
	b = rs1.ReplaceAll(b, []byte("{name: rs1, address: $1, weight: 200}"))
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
