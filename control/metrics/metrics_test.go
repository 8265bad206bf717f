package metrics

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"tenbin/control/config"
	"tenbin/control/daemon"
	"tenbin/control/health"
	"tenbin/control/shm"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, body)
	}
	return string(body)
}

// startEngine runs an engine on a temporary region and attaches fresh metrics to it.
func startEngine(t *testing.T) *Metrics {
	t.Helper()
	m, _, _ := startEngineAt(t)
	return m
}

func startEngineAt(t *testing.T, opts ...func(*daemon.Options)) (*Metrics, *daemon.Engine, string) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Load("testdata/metrics.yaml")
	if err != nil {
		t.Fatal(err)
	}
	regionPath := filepath.Join(dir, "region")
	m := New()
	o := daemon.Options{
		Config: cfg, RegionPath: regionPath, ObservePublish: m.ObservePublish,
		RegionParams: shm.Params{Lcores: 2, LUTCapacity: 1 << 18, FlowEntries: 1024},
	}
	for _, f := range opts {
		f(&o)
	}
	e, err := daemon.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	m.Attach(e)
	// A dataplane that is alive, as far as the region tells.
	r, err := shm.Open(regionPath)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Header().DataplaneHeartbeatMs = shm.NowMs()
	return m, e, regionPath
}

func TestScrapeReadsTheRegion(t *testing.T) {
	m, e, regionPath := startEngineAt(t)

	// Two lcores count packets for backend rs2 and drop some; the scrape sums them.
	r, err := shm.Open(regionPath)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cs := r.ConfigSet(r.ActiveIndex())
	var rs2 int
	for i := 1; i < int(cs.NBackends); i++ {
		if cs.Backends[i].Addr[3] == 12 {
			rs2 = i
		}
	}
	for l := range 2 {
		c := r.Counters(l)
		c.Backend[rs2][shm.ObjPkts] = 10
		c.Backend[rs2][shm.ObjBytes] = 1500
		c.BackendReply[rs2][shm.ReplyPkts] = 7
		c.Service[0][shm.ObjPkts] = 10
		c.Drops[12] = 3 // no_vip
		c.Global[shm.CtrRxPkts] = 20
	}

	text := scrape(t, m)
	for _, want := range []string{
		`tenbin_backend_packets_total{backend="rs2",service="web"} 20`,
		`tenbin_backend_bytes_total{backend="rs2",service="web"} 3000`,
		`tenbin_backend_reply_packets_total{backend="rs2",service="web"} 14`,
		`tenbin_backend_packets_total{backend="rs1",service="web"} 0`,
		`tenbin_service_packets_total{service="web"} 20`,
		`tenbin_drops_total{reason="no_vip"} 6`,
		`tenbin_dataplane_events_total{counter="rx_packets"} 40`,
		`tenbin_backend_up{backend="rs1",service="web"} 1`,
		`tenbin_backend_weight{backend="rs1",service="web"} 100`,
		`tenbin_backend_active_flows{backend="rs1",service="web"} 0`,
		`tenbin_backend_new_flows_total{backend="rs1",service="web"} 0`,
		`tenbin_config_generation 1`,
		`tenbin_dataplane_up 1`,
		`tenbin_publish_duration_seconds_count 1`,
		`tenbin_dataplane_heartbeat_age_seconds `,
		`tenbin_control_heartbeat_timestamp_seconds `,
		`# TYPE tenbin_backend_packets_total counter`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}

	if _, err := e.Drain("web", "rs1"); err != nil {
		t.Fatal(err)
	}
	text = scrape(t, m)
	for _, want := range []string{
		`tenbin_backend_weight{backend="rs1",service="web"} 0`,
		`tenbin_config_generation 2`,
		`tenbin_publish_duration_seconds_count 2`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("after drain, scrape lacks %q", want)
		}
	}
}

// dashboardMetrics are the metric names configs/grafana/tenbin.json queries.
func dashboardMetrics(t *testing.T) []string {
	data, err := os.ReadFile("../../configs/grafana/tenbin.json")
	if err != nil {
		t.Fatal(err)
	}
	return regexp.MustCompile(`tenbin_[a-z_]+`).FindAllString(string(data), -1)
}

func TestGrafanaDashboardChartsOnlyExportedMetrics(t *testing.T) {
	text := scrape(t, startEngine(t))
	for _, name := range dashboardMetrics(t) {
		if !strings.Contains(text, "\n"+name) {
			t.Errorf("dashboard queries %s, which is not exported", name)
		}
	}
}

// eventProber reports the state changes the test asks for, as health.Monitor would.
type eventProber struct{ onEvent func(health.Event) }

func (p *eventProber) Update([]health.Job) error { return nil }
func (p *eventProber) States() []health.Status   { return nil }
func (p *eventProber) Close()                    {}

func TestScrapeCountsStateChanges(t *testing.T) {
	p := &eventProber{}
	m, _, _ := startEngineAt(t, func(o *daemon.Options) {
		o.NewProber = func(_ *slog.Logger, onEvent func(health.Event)) daemon.Prober {
			p.onEvent = onEvent
			return p
		}
	})
	rs1 := health.Target{Service: "web", Backend: "rs1"}
	for _, s := range []health.State{health.StateDown, health.StateUp, health.StateDrain, health.StateDown} {
		p.onEvent(health.Event{Target: rs1, New: s, Result: health.Result{Load: -1}})
	}
	text := scrape(t, m)
	for _, want := range []string{
		`# TYPE tenbin_backend_state_changes_total counter`,
		`tenbin_backend_state_changes_total{backend="rs1",service="web",state="down"} 2`,
		`tenbin_backend_state_changes_total{backend="rs1",service="web",state="up"} 1`,
		`tenbin_backend_state_changes_total{backend="rs1",service="web",state="drain"} 1`,
		`tenbin_backend_state_changes_total{backend="rs2",service="web",state="down"} 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}

// fnat connections per local address: what the lcores count per slot, summed, by address.
func TestScrapeShowsFNATConnectionsPerLocalAddress(t *testing.T) {
	cfg, err := config.Load("testdata/metrics-fnat.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, _, regionPath := startEngineAt(t, func(o *daemon.Options) { o.Config = cfg })
	r, err := shm.Open(regionPath)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cs := r.ConfigSet(r.ActiveIndex())
	first := -1
	for i, la := range cs.LocalAddrs {
		if la.Family == 4 && la.Addr[3] == 1 && la.Addr[2] == 3 {
			first = i
		}
	}
	if first < 0 {
		t.Fatal("198.18.3.1 has no local-address slot in the active set")
	}
	r.Counters(0).LocalConns[first] = 3
	r.Counters(1).LocalConns[first] = 2
	text := scrape(t, m)
	for _, want := range []string{
		`tenbin_fnat_local_connections{address="198.18.3.1"} 5`,
		`tenbin_fnat_local_connections{address="198.18.3.2"} 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}
