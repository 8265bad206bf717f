package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"tenbin/control/shm"
)

var (
	svcLabels = []string{"service"}
	beLabels  = []string{"service", "backend"}

	svcPackets  = desc("tenbin_service_packets_total", "Packets forwarded for the service (VIP).", svcLabels...)
	svcBytes    = desc("tenbin_service_bytes_total", "Bytes forwarded for the service (VIP).", svcLabels...)
	svcNewFlows = desc("tenbin_service_new_flows_total", "New flows (connections) of the service.", svcLabels...)
	svcActive   = desc("tenbin_service_active_flows", "Flows of the service in the flow tables (an estimate: idle flows count until they expire).", svcLabels...)

	bePackets = desc("tenbin_backend_packets_total", "Packets forwarded to the backend.", beLabels...)
	beBytes   = desc("tenbin_backend_bytes_total", "Bytes forwarded to the backend.", beLabels...)

	svcReplyPackets = desc("tenbin_service_reply_packets_total", "Reply packets (server to client) the balancer translated back: nat/fnat only.", svcLabels...)
	svcReplyBytes   = desc("tenbin_service_reply_bytes_total", "Reply bytes (server to client) the balancer translated back: nat/fnat only.", svcLabels...)
	beReplyPackets  = desc("tenbin_backend_reply_packets_total", "Reply packets from the backend the balancer translated back: nat/fnat only.", beLabels...)
	beReplyBytes    = desc("tenbin_backend_reply_bytes_total", "Reply bytes from the backend the balancer translated back: nat/fnat only.", beLabels...)
	beNewFlows      = desc("tenbin_backend_new_flows_total", "New flows (connections) sent to the backend.", beLabels...)
	beActive        = desc("tenbin_backend_active_flows", "Flows of the backend in the flow tables (an estimate).", beLabels...)
	beUp            = desc("tenbin_backend_up", "1 if the backend's health checks pass (up or drain), else 0.", beLabels...)
	beWeight        = desc("tenbin_backend_weight", "The weight the backend is published with (0: no new flows).", beLabels...)
	beChanges       = desc("tenbin_backend_state_changes_total", "Health state changes of the backend, by the state entered (up, down, drain).", append(beLabels, "state")...)

	localConns = desc("tenbin_fnat_local_connections", "Open fnat connections through the local address (draining addresses, "+
		"which left their pools, stay until their connections close).", "address")

	drops      = desc("tenbin_drops_total", "Packets the dataplane dropped, by reason.", "reason")
	dpCounters = desc("tenbin_dataplane_events_total", "The dataplane's global counters (rx_packets, flow_new, arp_replies, ...).", "counter")

	dpUp        = desc("tenbin_dataplane_up", "1 if the dataplane's heartbeat is fresh.")
	dpAge       = desc("tenbin_dataplane_heartbeat_age_seconds", "Age of the dataplane's heartbeat (absent if it never ran).")
	ctlBeat     = desc("tenbin_control_heartbeat_timestamp_seconds", "Unix time of the control daemon's last heartbeat in the region.")
	generation  = desc("tenbin_config_generation", "Generation of the last published config set.")
	lcoreBehind = desc("tenbin_lcore_generation_lag", "How many generations an online lcore is behind the published one.", "slot")
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// collector reads the engine (and through it the region) at scrape time.
type collector struct{ m *Metrics }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{svcReplyPackets, svcReplyBytes, beReplyPackets, beReplyBytes, svcPackets, svcBytes, svcNewFlows, svcActive, bePackets, beBytes,
		beNewFlows, beActive, beUp, beWeight, beChanges, localConns, drops, dpCounters, dpUp, dpAge, ctlBeat, generation, lcoreBehind} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	p := c.m.src.Load()
	if p == nil {
		return
	}
	src := *p
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, s := range src.Services() {
		counter(svcPackets, s.Packets, s.Name)
		counter(svcBytes, s.Bytes, s.Name)
		counter(svcReplyPackets, s.ReplyPackets, s.Name)
		counter(svcReplyBytes, s.ReplyBytes, s.Name)
		counter(svcNewFlows, s.NewFlows, s.Name)
		gauge(svcActive, float64(s.ActiveFlows), s.Name)
		for _, b := range s.Backends {
			counter(bePackets, b.Packets, s.Name, b.Name)
			counter(beBytes, b.Bytes, s.Name, b.Name)
			counter(beReplyPackets, b.ReplyPackets, s.Name, b.Name)
			counter(beReplyBytes, b.ReplyBytes, s.Name, b.Name)
			counter(beNewFlows, b.NewFlows, s.Name, b.Name)
			gauge(beActive, float64(b.ActiveFlows), s.Name, b.Name)
			gauge(beUp, boolValue(b.Health != "down"), s.Name, b.Name)
			gauge(beWeight, float64(b.Weight), s.Name, b.Name)
			counter(beChanges, b.StateChanges.Up, s.Name, b.Name, "up")
			counter(beChanges, b.StateChanges.Down, s.Name, b.Name, "down")
			counter(beChanges, b.StateChanges.Drain, s.Name, b.Name, "drain")
		}
	}
	st := src.Stats()
	for _, la := range st.LocalAddresses {
		gauge(localConns, float64(la.Connections), la.Address.String())
	}
	for _, reason := range shm.DropReasonNames {
		counter(drops, st.Drops[reason], reason)
	}
	for _, name := range shm.CounterNames {
		counter(dpCounters, st.Global[name], name)
	}
	status := src.Status()
	gauge(dpUp, boolValue(status.Dataplane.Alive))
	if status.Dataplane.HeartbeatAgeMs >= 0 {
		gauge(dpAge, float64(status.Dataplane.HeartbeatAgeMs)/1000)
	}
	if status.Control.HeartbeatAgeMs >= 0 {
		beat := time.Now().Add(-time.Duration(status.Control.HeartbeatAgeMs) * time.Millisecond)
		gauge(ctlBeat, float64(beat.UnixMilli())/1000)
	}
	gauge(generation, float64(status.Region.PublishedGeneration))
	for _, l := range status.Lcores {
		if l.Online && l.SeenGeneration <= status.Region.PublishedGeneration {
			gauge(lcoreBehind, float64(status.Region.PublishedGeneration-l.SeenGeneration), strconv.Itoa(l.Slot))
		}
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
