package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"tenbin/control/shm"
	"tenbin/test/flowpcap"
)

// binary builds tenbin-dataplane once for the package's tests.
func binary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tenbin-dataplane")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func TestBadInputIsOneLineAndExit2(t *testing.T) {
	bin := binary(t)
	cases := map[string][]string{
		"bogus vdev":      {"--vdev", "net_bogus0"},
		"no ports":        {},
		"malformed flag":  {"--port", "net_null0", "--lcores"},
		"unknown flag":    {"--port", "net_null0", "--frobnicate"},
		"missing pcap":    {"--port", "net_pcap0,rx_pcap=/nonexistent.pcap"},
		"bad lcore list":  {"--port", "net_null0", "--lcores", "0,x"},
		"absent lcore":    {"--port", "net_null0", "--lcores", "0,63", "--shm", filepath.Join(t.TempDir(), "r")},
		"bad devargs":     {"--port", "net_af_packet0,iface=tenbin-nonexistent0", "--shm", filepath.Join(t.TempDir(), "r")},
		"flow entries":    {"--port", "net_null0", "--flow-entries", "1000"},
		"stray argument":  {"--port", "net_null0", "extra"},
		"too many slots":  {"--port", "net_null0", "--lcore-slots", "99"},
		"odd passthrough": {"--port", "net_null0", "--port", "net_null1", "--port", "net_null2", "--passthrough"},
		// the kernel-port cases create no interface: each fails before its tap exists
		"kernel port name too long":  {"--port", "net_null0", "--kernel-port=tb-far-too-long-name"},
		"kernel ports > ports":       {"--port", "net_null0", "--kernel-port=tb-a,tb-b"},
		"kernel port names twice":    {"--port", "net_null0", "--port", "net_null1", "--kernel-port=tb-a,tb-a"},
		"kernel port passthrough":    {"--port", "net_null0", "--kernel-port", "--passthrough"},
		"kernel port exists already": {"--port", "net_null0", "--kernel-port=lo", "--shm", filepath.Join(t.TempDir(), "r")},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			var stderr bytes.Buffer
			cmd := exec.Command(bin, args...)
			cmd.Stderr = &stderr
			err := cmd.Run()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 2 {
				t.Fatalf("exit: %v, want code 2; stderr:\n%s", err, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "tenbin-dataplane: ") {
				t.Errorf("want one line on stderr, got %d:\n%s", len(lines), stderr.String())
			}
		})
	}
}

// More mbufs than --mem holds: one line that says what to raise (exit 1: the flags were
// valid, the machine said no).
func TestMbufPoolTooBigForMemSaysWhatToRaise(t *testing.T) {
	bin := binary(t)
	var stderr bytes.Buffer
	// 524288 packed mbufs of 2,368 bytes are 1,184 MiB: more than --mem 600 holds.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--port", "net_null0,no-rx=1", "--mbufs", "524288", "--mem", "600", "--shm", filepath.Join(t.TempDir(), "r"))
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("the dataplane started and ran: a pool that cannot fit in --mem was created; stderr:\n%s", stderr.String())
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v, want code 1; stderr:\n%s", err, stderr.String())
	}
	if got := strings.TrimSpace(stderr.String()); strings.Count(got, "\n") != 0 ||
		!strings.Contains(got, "524288 mbufs of 2.3 KiB need more than 1312 MiB of --mem, which is 600") {
		t.Fatalf("stderr %q: want one line naming the --mem the mbufs need", got)
	}
}

func sumCounter(r *shm.Region, c int) (n uint64) {
	for i := 0; i < int(r.Header().NLcores); i++ {
		n += r.Counters(i).Global[c]
	}
	return n
}

func TestForwardsCountsAndStopsCleanly(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	pcap, region := filepath.Join(dir, "flows.pcap"), filepath.Join(dir, "region")
	if err := flowpcap.Write(pcap, 64, true); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"passthrough", "balancer"} {
		t.Run(mode, func(t *testing.T) {
			args := []string{"--port", "net_pcap0,rx_pcap=" + pcap + ",infinite_rx=1", "--port", "net_null0",
				"--shm", region, "--lcore-slots", "2", "--flow-entries", "1024", "--lut-capacity", "4096", "--mem", "128"}
			if mode == "passthrough" {
				args = append(args, "--passthrough")
			}
			cmd := exec.Command(bin, args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			var r *shm.Region
			var err error
			for i := 0; i < 100; i++ {
				if r, err = shm.Open(region); err == nil && r.Header().LcoresRunning > 0 {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if err != nil {
				t.Fatalf("region: %v\n%s", err, stderr.String())
			}
			defer r.Close()
			rx0 := sumCounter(r, shm.CtrRxPkts)
			time.Sleep(300 * time.Millisecond)
			rx1, tx1 := sumCounter(r, shm.CtrRxPkts), sumCounter(r, shm.CtrTxPkts)
			if rx1 <= rx0 {
				t.Errorf("rx counter not rising: %d → %d", rx0, rx1)
			}
			if mode == "passthrough" && tx1 == 0 {
				t.Error("passthrough forwarded nothing")
			}
			if noConfig := slices.Index(shm.DropReasonNames, "no_config"); mode == "balancer" && r.Counters(0).Drops[noConfig] == 0 {
				t.Error("with no config published every packet drops as no_config")
			}
			if age := shm.HeartbeatAge(r.Header().DataplaneHeartbeatMs); age > time.Second {
				t.Errorf("dataplane heartbeat %v old", age)
			}
			cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("SIGTERM: %v\n%s", err, stderr.String())
				}
			case <-time.After(5 * time.Second):
				t.Fatal("did not stop within 5 s of SIGTERM")
			}
			if r.Header().LcoresRunning != 0 || r.LcoreState(0).Online != 0 {
				t.Error("a clean stop marks the lcores offline")
			}
		})
	}
}
