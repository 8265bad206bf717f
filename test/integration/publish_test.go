// Package integration runs the real tenbin-dataplane binary on vdevs beside the control
// plane's table code, for what no in-process test can show: publishing under load.
package integration

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"tenbin/control/config"
	"tenbin/control/daemon"
	"tenbin/control/health"
	"tenbin/control/shm"
	"tenbin/test/flowpcap"
)

const flows = 1024

// configWith is a one-service l2dsr config with static MACs (net_null answers no ARP):
// rs1..rs3 never change, rs4's weight and rs5's presence do.
func configWith(i int) *config.Config {
	extra := ""
	if i%2 == 1 {
		extra = "      - {name: rs5, address: 198.18.10.15, mac: \"02:00:00:00:10:15\"}\n"
	}
	text := fmt.Sprintf(`dataplane:
  ports:
    - {name: p0, ipv4: 198.18.0.1/24}
    - {name: p1, ipv4: 198.18.10.3/24}
services:
  - name: web
    vip: 198.18.0.100
    port: 80
    mode: l2dsr
    ingress_port: p0
    egress_port: p1
    health_check: {kind: none}
    backends:
      - {name: rs1, address: 198.18.10.11, mac: "02:00:00:00:10:11"}
      - {name: rs2, address: 198.18.10.12, mac: "02:00:00:00:10:12"}
      - {name: rs3, address: 198.18.10.13, mac: "02:00:00:00:10:13"}
      - {name: rs4, address: 198.18.10.14, mac: "02:00:00:00:10:14", weight: %d}
%s`, 50+i%7*10, extra)
	cfg, err := config.Parse("publish-test.yaml", []byte(text))
	if err != nil {
		panic(err)
	}
	return cfg
}

func upHealth(cfg *config.Config) map[daemon.BackendKey]daemon.Health {
	h := map[daemon.BackendKey]daemon.Health{}
	for _, s := range cfg.Services {
		for _, b := range s.Backends {
			h[daemon.BackendKey{Service: s.Name, Backend: b.Name}] = daemon.Health{State: health.StateUp, Load: -1}
		}
	}
	return h
}

type flowKey struct {
	src   [16]byte
	sport uint16
}

// flowOwners maps each flow of every lcore's table to its backend's address.
func flowOwners(r *shm.Region) map[flowKey]string {
	cs := r.ConfigSet(r.ActiveIndex())
	out := map[flowKey]string{}
	for slot := 0; slot < int(r.Header().NLcores); slot++ {
		for _, f := range r.Flows(slot) {
			if f.Sig == 0 {
				continue
			}
			b := cs.Backends[f.Backend]
			if b.Incarnation != f.Incarnation {
				continue // stale: the dataplane re-selects it on its next packet
			}
			out[flowKey{f.Src, f.SportBE}] = net.IP(b.Addr[:4]).String()
		}
	}
	return out
}

func counters(r *shm.Region) (rx, tx, drops uint64) {
	for i := 0; i < int(r.Header().NLcores); i++ {
		c := r.Counters(i)
		rx += c.Global[shm.CtrRxPkts]
		tx += c.Global[shm.CtrTxPkts]
		for _, d := range c.Drops {
			drops += d
		}
	}
	return
}

func TestPublishUnderLoadLosesNothingAndMovesNoFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the dataplane binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "tenbin-dataplane")
	if out, err := exec.Command("go", "build", "-o", bin, "tenbin/cmd/tenbin-dataplane").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	pcap, regionPath := filepath.Join(dir, "flows.pcap"), filepath.Join(dir, "region")
	if err := flowpcap.Write(pcap, flows, false); err != nil {
		t.Fatal(err)
	}
	r, err := shm.OpenOrCreate(regionPath, shm.Params{Lcores: 2, LUTCapacity: 1 << 18, FlowEntries: 1 << 14})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	builder, writer := daemon.NewBuilder(), shm.NewWriter(r)
	publish := func(i int) {
		cfg := configWith(i)
		res, err := builder.Build(daemon.Inputs{Config: cfg, Health: upHealth(cfg), Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := writer.Publish(context.Background(), res.Desired); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	publish(0) // tables in place before the first packet

	cmd := exec.Command(bin, "--port", "net_pcap0,rx_pcap="+pcap+",infinite_rx=1", "--port", "net_null0",
		"--shm", regionPath, "--lcore-slots", "2", "--flow-entries", "16384", "--lut-capacity", "262144", "--mem", "128")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	deadline := time.Now().Add(10 * time.Second)
	for len(flowOwners(r)) < flows {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d flows established\n%s", len(flowOwners(r)), flows, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	before := flowOwners(r)
	rx0, _, _ := counters(r)

	start := time.Now()
	for i := 1; i <= 100; i++ {
		publish(i)
	}
	perPublish := time.Since(start) / 100
	time.Sleep(100 * time.Millisecond) // let every replayed flow pass once more

	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("dataplane: %v\n%s", err, stderr.String())
	}
	rx, tx, drops := counters(r)
	if drops != 0 || rx != tx {
		t.Errorf("lost packets across 100 publishes: rx %d, tx %d, drops %d", rx, tx, drops)
	}
	after := flowOwners(r)
	moved := 0
	for k, was := range before {
		if was == "198.18.10.15" { // rs5 comes and goes: its flows are re-selected
			continue
		}
		if after[k] != was {
			moved++
		}
	}
	if moved != 0 {
		t.Errorf("%d flows of unchanged backends moved", moved)
	}
	t.Logf("100 publishes under %d pkts of load: %v per publish, rx %d = tx %d, 0 drops, %d flows kept their backend",
		rx-rx0, perPublish, rx, tx, len(before))
}
