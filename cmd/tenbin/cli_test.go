package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"tenbin/control/api"
	"tenbin/control/config"
	"tenbin/control/daemon"
	"tenbin/control/shm"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// golden compares got with testdata/NAME.golden (or rewrites it with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n--- got\n%s--- want\n%s", name, path, got, want)
	}
}

// resetFlags puts every flag back to its default, since rootCmd lives across runs.
func resetFlags(cmd *cobra.Command) {
	for _, fs := range []*pflag.FlagSet{cmd.Flags(), cmd.PersistentFlags()} {
		fs.VisitAll(func(f *pflag.Flag) {
			f.Value.Set(f.DefValue)
			f.Changed = false
		})
	}
	for _, c := range cmd.Commands() {
		resetFlags(c)
	}
}

// runCLI runs tenbin with args as main would and returns stdout, stderr and the exit code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	resetFlags(rootCmd)
	var out, errOut bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&errOut)
	rootCmd.SetArgs(args)
	err := rootCmd.ExecuteContext(context.Background())
	code := exitOK
	if err != nil {
		errOut.WriteString("tenbin: " + err.Error() + "\n")
		var ue usageError
		code = exitFailure
		if errors.As(err, &ue) || isCobraUsageError(err) {
			code = exitUsage
		}
	}
	return out.String(), errOut.String(), code
}

// startDaemon serves testdata/cli.yaml from an engine on a temporary region.
func startDaemon(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	data, _ := os.ReadFile("testdata/cli.yaml")
	cfgPath := filepath.Join(dir, "tenbin.yaml")
	os.WriteFile(cfgPath, data, 0o644)
	cfg, err := config.Parse(cfgPath, data)
	if err != nil {
		t.Fatal(err)
	}
	e, err := daemon.New(daemon.Options{Config: cfg, ConfigText: data, ConfigPath: cfgPath,
		RegionPath:   filepath.Join(dir, "region"),
		RegionParams: shm.Params{Lcores: 2, LUTCapacity: 1 << 18, FlowEntries: 1024}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	sock := filepath.Join(dir, "tenbin.sock")
	l, err := api.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := api.NewServer(e, nil)
	go srv.Serve(l)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return sock
}

func TestCLIAgainstADaemon(t *testing.T) {
	sock := startDaemon(t)
	for _, c := range []struct {
		golden string
		args   []string
		code   int
	}{
		{"service-list", []string{"service", "list"}, exitOK},
		{"service-show", []string{"service", "show", "web"}, exitOK},
		{"backend-list", []string{"backend", "list", "--service", "web"}, exitOK},
		{"backend-drain", []string{"backend", "drain", "web", "rs1"}, exitOK},
		{"backend-weight", []string{"backend", "weight", "web", "rs2", "50"}, exitOK},
		{"backend-list-after", []string{"backend", "list"}, exitOK},
		{"backend-undrain-json", []string{"backend", "undrain", "web", "rs1", "-o", "json"}, exitOK},
		{"config-diff", []string{"config", "diff", "testdata/cli-next.yaml"}, exitOK},
		{"config-apply", []string{"config", "apply", "testdata/cli-next.yaml"}, exitOK},
		{"config-apply-bad", []string{"config", "apply", "testdata/cli-bad.yaml"}, exitUsage},
		{"backend-unknown", []string{"backend", "drain", "web", "nope"}, exitUsage},
		{"backend-bad-weight", []string{"backend", "weight", "web", "rs1", "many"}, exitUsage},
		{"bad-output", []string{"service", "list", "-o", "yaml"}, exitUsage},
	} {
		out, errOut, code := runCLI(t, append([]string{"--socket", sock}, c.args...)...)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d (stderr %s)", c.args, code, c.code, errOut)
		}
		golden(t, "cli-"+c.golden, out+errOut)
	}
	// No daemon: exit 1 and say where it looked.
	_, errOut, code := runCLI(t, "--socket", filepath.Join(t.TempDir(), "none.sock"), "status")
	if code != exitFailure || !strings.Contains(errOut, "not reachable") {
		t.Errorf("status without a daemon: exit %d, %s", code, errOut)
	}
	// status and stats carry times and pids: check their shape, not their bytes.
	out, _, code := runCLI(t, "--socket", sock, "status")
	if code != exitOK || !strings.Contains(out, "NOT RUNNING (heartbeat never)") || !strings.Contains(out, "services    1, backends 3") {
		t.Errorf("status:\n%s", out)
	}
	out, _, code = runCLI(t, "--socket", sock, "stats", "--interval", "20ms", "-o", "json")
	if code != exitOK || !strings.Contains(out, `"cps": 0`) {
		t.Errorf("stats:\n%s", out)
	}
}

func TestCLIConfigValidateWorksOffline(t *testing.T) {
	for _, c := range []struct {
		golden string
		args   []string
		code   int
	}{
		{"validate-ok", []string{"config", "validate", "testdata/cli.yaml"}, exitOK},
		{"validate-bad", []string{"config", "validate", "testdata/cli-bad.yaml"}, exitUsage},
		{"validate-bad-json", []string{"config", "validate", "testdata/cli-bad.yaml", "-o", "json"}, exitUsage},
		{"validate-missing", []string{"config", "validate", "testdata/none.yaml"}, exitUsage},
	} {
		out, errOut, code := runCLI(t, append([]string{"--socket", "/nonexistent/tenbin.sock"}, c.args...)...)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d", c.args, code, c.code)
		}
		golden(t, "cli-"+c.golden, out+errOut)
	}
}

func TestCLIRendersStatusStatsAndRegion(t *testing.T) {
	st := daemon.Status{
		Control:   daemon.ControlStatus{PID: 4242, UptimeSeconds: 3723, HeartbeatAgeMs: 40, ConfigFile: "/etc/tenbin/tenbin.yaml"},
		Dataplane: daemon.DataplaneStatus{Alive: true, PID: 777, HeartbeatAgeMs: 3, UptimeSeconds: 90061, LcoresRunning: 2, Ports: 2},
		Region: daemon.RegionStatus{Path: "/dev/hugepages/tenbin", SizeBytes: 512 << 20, Lcores: 4, LUTCapacity: 1048592,
			LUTUsed: 65788, FlowEntries: 262144, Active: 1, ActiveGeneration: 42, PublishedGeneration: 42},
		Publish:  daemon.PublishStatus{Generation: 42, DurationMs: 1.25, Count: 7},
		Lcores:   []daemon.LcoreStatus{{Slot: 0, LcoreID: 1, Online: true, SeenGeneration: 42, HeartbeatAgeMs: 2, BusyPolls: 1000, IdlePolls: 50, Sleeps: 3}},
		Services: 2, Backends: 5, Up: 4,
	}
	var buf bytes.Buffer
	printStatus(&buf, st)
	golden(t, "render-status", buf.String())

	t0 := time.Unix(1000, 0)
	a := daemon.Stats{At: t0, Global: map[string]uint64{"rx_packets": 0}, Drops: map[string]uint64{"no_vip": 0},
		Services: []daemon.ServiceStats{{Name: "web", Backends: []daemon.BackendStats{{Name: "rs1"}, {Name: "rs2"}}}}}
	b := daemon.Stats{At: t0.Add(2 * time.Second), Global: map[string]uint64{"rx_packets": 3_000_000, "tx_packets": 2_999_000},
		Drops: map[string]uint64{"no_vip": 1000},
		Services: []daemon.ServiceStats{{Name: "web",
			ObjCounters: daemon.ObjCounters{Packets: 3_000_000, Bytes: 1_500_000_000, NewFlows: 20_000, ActiveFlows: 1234},
			Backends: []daemon.BackendStats{
				{Name: "rs1", Address: netip.MustParseAddr("198.18.0.11"), Port: 80, ObjCounters: daemon.ObjCounters{Packets: 2_000_000, Bytes: 1_000_000_000, NewFlows: 13_000, ActiveFlows: 800}},
				{Name: "rs2", Address: netip.MustParseAddr("198.18.0.12"), Port: 80, ObjCounters: daemon.ObjCounters{Packets: 1_000_000, Bytes: 500_000_000, NewFlows: 7_000, ActiveFlows: 434}}}}},
		LocalAddresses: []daemon.LocalAddrStats{{Address: netip.MustParseAddr("198.18.3.1"), Connections: 1200}, {Address: netip.MustParseAddr("198.18.3.2")}}}
	buf.Reset()
	printRates(&buf, computeRates(a, b), map[string]string{"web": "198.18.1.10 tcp/80"})
	golden(t, "render-stats", buf.String())
}

func TestCLIShmInspect(t *testing.T) {
	path := filepath.Join(t.TempDir(), "region")
	r, err := shm.OpenOrCreate(path, shm.Params{Lcores: 2, LUTCapacity: 1 << 18, FlowEntries: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Counters(0).Global[shm.CtrRxPkts] = 5
	r.Counters(1).Global[shm.CtrRxPkts] = 7
	r.Counters(1).Drops[12] = 2
	out, _, code := runCLI(t, "shm", "inspect", path)
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	out = strings.ReplaceAll(out, path, "REGION")
	golden(t, "shm-inspect", out)
	if _, errOut, code := runCLI(t, "shm", "inspect", filepath.Join(t.TempDir(), "none")); code != exitFailure || errOut == "" {
		t.Errorf("missing region: exit %d", code)
	}
}
