package daemon

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"tenbin/control/shm"
)

// Status is what `tenbin status` shows: both processes' liveness, generations, lcores.
type Status struct {
	Control   ControlStatus   `json:"control"`
	Dataplane DataplaneStatus `json:"dataplane"`
	Region    RegionStatus    `json:"region"`
	Publish   PublishStatus   `json:"publish"`
	Lcores    []LcoreStatus   `json:"lcores"`
	Services  int             `json:"services"`
	Backends  int             `json:"backends"`
	Up        int             `json:"backends_up"` // taking new flows
}

// ControlStatus describes this daemon.
type ControlStatus struct {
	PID            int       `json:"pid"`
	StartedAt      time.Time `json:"started_at"`
	UptimeSeconds  float64   `json:"uptime_seconds"`
	HeartbeatAgeMs int64     `json:"heartbeat_age_ms"`
	ConfigFile     string    `json:"config_file"`
	ConfigLoadedAt time.Time `json:"config_loaded_at"`
}

// DataplaneStatus is what the dataplane wrote into the region. Alive means its heartbeat
// is recent; HeartbeatAgeMs is -1 when it never ran.
type DataplaneStatus struct {
	Alive          bool    `json:"alive"`
	PID            uint64  `json:"pid"`
	HeartbeatAgeMs int64   `json:"heartbeat_age_ms"`
	UptimeSeconds  float64 `json:"uptime_seconds"`
	LcoresRunning  uint32  `json:"lcores_running"`
	Ports          uint32  `json:"ports"`
}

// RegionStatus describes the shared region and its config sets.
type RegionStatus struct {
	Path                string `json:"path"`
	SizeBytes           uint64 `json:"size_bytes"`
	Lcores              uint32 `json:"lcores"`
	LUTCapacity         uint32 `json:"lut_capacity"`
	LUTUsed             uint32 `json:"lut_used"`
	FlowEntries         uint32 `json:"flow_entries"`
	Active              int    `json:"active_set"`
	ActiveGeneration    uint64 `json:"active_generation"`
	PublishedGeneration uint64 `json:"published_generation"`
}

// PublishStatus is the last publish of this daemon.
type PublishStatus struct {
	Generation uint64    `json:"generation"`
	At         time.Time `json:"at"`
	DurationMs float64   `json:"duration_ms"`
	Count      uint64    `json:"count"`
	LastError  string    `json:"last_error,omitempty"`
}

// LcoreStatus is one lcore slot the dataplane reports in.
type LcoreStatus struct {
	Slot           int    `json:"slot"`
	LcoreID        uint32 `json:"lcore_id"`
	Online         bool   `json:"online"`
	SeenGeneration uint64 `json:"seen_generation"`
	HeartbeatAgeMs int64  `json:"heartbeat_age_ms"`
	BusyPolls      uint64 `json:"busy_polls"`
	IdlePolls      uint64 `json:"idle_polls"`
	Sleeps         uint64 `json:"sleeps"`
}

// DataplaneDeadAfter: a dataplane heartbeat older than this means it is not running.
const DataplaneDeadAfter = time.Second

// AgeMs renders a heartbeat's age for status output: -1 for never.
func AgeMs(ms uint64) int64 {
	if ms == 0 {
		return -1
	}
	return shm.HeartbeatAge(ms).Milliseconds()
}

// Status reports both processes' state. It does not wait for a publish in progress.
func (e *Engine) Status() Status {
	snap := e.view.Load()
	st := Status{
		Control: ControlStatus{
			PID:            os.Getpid(),
			StartedAt:      e.start,
			UptimeSeconds:  time.Since(e.start).Seconds(),
			ConfigFile:     snap.file,
			ConfigLoadedAt: snap.loadedAt,
		},
		Publish: PublishStatus{
			Generation: snap.pub.Generation,
			At:         snap.pub.At,
			DurationMs: float64(snap.pub.Duration.Microseconds()) / 1000,
			Count:      snap.pub.Count,
		},
	}
	if err := e.lastPublishErr.Load(); err != nil {
		st.Publish.LastError = (*err).Error()
	}
	for _, s := range snap.result.Services {
		st.Services++
		for _, b := range s.Backends {
			st.Backends++
			if b.Weight > 0 {
				st.Up++
			}
		}
	}
	e.regionMu.RLock()
	defer e.regionMu.RUnlock()
	if e.reg.r == nil {
		return st
	}
	ReadRegionStatus(e.reg.r, &st)
	st.Region.Path = e.reg.path
	return st
}

// ReadRegionStatus fills the parts of st that the region holds (also for `tenbin shm inspect`).
func ReadRegionStatus(r *shm.Region, st *Status) {
	h := r.Header()
	active := r.ActiveIndex()
	cs := r.ConfigSet(active)
	st.Control.HeartbeatAgeMs = AgeMs(atomic.LoadUint64(&h.ControlHeartbeatMs))
	dpBeat := atomic.LoadUint64(&h.DataplaneHeartbeatMs)
	st.Dataplane = DataplaneStatus{
		Alive:          dpBeat != 0 && shm.HeartbeatAge(dpBeat) < DataplaneDeadAfter,
		PID:            atomic.LoadUint64(&h.DataplanePID),
		HeartbeatAgeMs: AgeMs(dpBeat),
		LcoresRunning:  atomic.LoadUint32(&h.LcoresRunning),
		Ports:          atomic.LoadUint32(&h.NPorts),
	}
	if started := atomic.LoadUint64(&h.DataplaneStartedMs); started != 0 && st.Dataplane.Alive {
		st.Dataplane.UptimeSeconds = shm.HeartbeatAge(started).Seconds()
	}
	st.Region = RegionStatus{
		Path:                r.Path,
		SizeBytes:           h.TotalSize,
		Lcores:              h.NLcores,
		LUTCapacity:         h.LUTCapacity,
		LUTUsed:             atomic.LoadUint32(&cs.LUTUsed),
		FlowEntries:         h.FlowEntries,
		Active:              active,
		ActiveGeneration:    atomic.LoadUint64(&cs.Generation),
		PublishedGeneration: atomic.LoadUint64(&h.PublishedGeneration),
	}
	st.Lcores = nil
	for i := range shm.MaxLcores {
		ls := r.LcoreState(i)
		beat := atomic.LoadUint64(&ls.HeartbeatMs)
		online := atomic.LoadUint32(&ls.Online) != 0
		if beat == 0 && !online {
			continue // a slot no lcore ever used
		}
		st.Lcores = append(st.Lcores, LcoreStatus{
			Slot:           i,
			LcoreID:        atomic.LoadUint32(&ls.LcoreID),
			Online:         online,
			SeenGeneration: atomic.LoadUint64(&ls.SeenGeneration),
			HeartbeatAgeMs: AgeMs(beat),
			BusyPolls:      atomic.LoadUint64(&ls.BusyPolls),
			IdlePolls:      atomic.LoadUint64(&ls.IdlePolls),
			Sleeps:         atomic.LoadUint64(&ls.Sleeps),
		})
	}
}

// ServiceView is a service as published, with counters.
type ServiceView struct {
	ServicePlan
	ObjCounters
	Backends []BackendView `json:"backends"`
}

// BackendView is a backend as published, with its checks' details and counters.
type BackendView struct {
	Service string `json:"service"`
	BackendPlan
	Detail string  `json:"detail,omitempty"`
	RTTMs  float64 `json:"rtt_ms,omitempty"`
	Load   int     `json:"load"` // agent-reported 0..100, -1 unknown
	// StateChanges counts the checks' state changes since the daemon started.
	StateChanges StateChanges `json:"state_changes"`
	ObjCounters
}

// Services lists every service as last published.
func (e *Engine) Services() []ServiceView {
	snap := e.view.Load()
	stats := e.Stats()
	hs := e.healthSnapshot()
	changes := e.stateChanges()
	out := make([]ServiceView, 0, len(snap.result.Services))
	for i, s := range snap.result.Services {
		v := ServiceView{ServicePlan: s}
		if i < len(stats.Services) && stats.Services[i].Name == s.Name {
			v.ObjCounters = stats.Services[i].ObjCounters
		}
		for j, b := range s.Backends {
			bv := BackendView{Service: s.Name, BackendPlan: b, Load: -1, StateChanges: changes[BackendKey{s.Name, b.Name}]}
			if h, ok := hs[BackendKey{s.Name, b.Name}]; ok {
				bv.Detail, bv.RTTMs, bv.Load = h.Detail, float64(h.RTT.Microseconds())/1000, h.Load
			}
			if i < len(stats.Services) && j < len(stats.Services[i].Backends) {
				bv.ObjCounters = stats.Services[i].Backends[j].ObjCounters
			}
			v.Backends = append(v.Backends, bv)
		}
		out = append(out, v)
	}
	return out
}

// Service returns one service, or ErrNoService.
func (e *Engine) Service(name string) (ServiceView, error) {
	for _, s := range e.Services() {
		if s.Name == name {
			return s, nil
		}
	}
	return ServiceView{}, fmt.Errorf("%w: %q", ErrNoService, name)
}

// Backends lists the backends of one service, or of all when service is "".
func (e *Engine) Backends(service string) ([]BackendView, error) {
	var out []BackendView
	found := service == ""
	for _, s := range e.Services() {
		if service != "" && s.Name != service {
			continue
		}
		found = true
		out = append(out, s.Backends...)
	}
	if !found {
		return nil, fmt.Errorf("%w: %q", ErrNoService, service)
	}
	return out, nil
}
