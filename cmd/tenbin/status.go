package main

import (
	"fmt"
	"io"
	"sync/atomic"

	"github.com/spf13/cobra"

	"tenbin/control/daemon"
	"tenbin/control/shm"
)

func init() {
	rootCmd.AddCommand(&cobra.Command{
		Use:   "status",
		Short: "Show whether the control daemon and the dataplane are alive, and what is published",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(); err != nil {
				return err
			}
			st, err := daemonClient().Status(cmd.Context())
			if err != nil {
				return daemonError(err)
			}
			if jsonOutput() {
				return writeJSON(cmd.OutOrStdout(), st)
			}
			return printStatus(cmd.OutOrStdout(), st)
		},
	})
	shmCmd := &cobra.Command{Use: "shm", Short: "Look into a shared-memory region"}
	shmCmd.AddCommand(&cobra.Command{
		Use:   "inspect PATH",
		Short: "Print a live region's header, generations, heartbeats and counters (reads it directly)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(); err != nil {
				return err
			}
			r, err := shm.Open(args[0])
			if err != nil {
				return err
			}
			defer r.Close()
			in := inspectRegion(r)
			if jsonOutput() {
				return writeJSON(cmd.OutOrStdout(), in)
			}
			return printInspect(cmd.OutOrStdout(), in)
		},
	})
	rootCmd.AddCommand(shmCmd)
}

func printStatus(w io.Writer, st daemon.Status) error {
	t := newTable(w)
	t.row("control", fmt.Sprintf("pid %d, up %s, heartbeat %s, config %s", st.Control.PID,
		humanSeconds(st.Control.UptimeSeconds), ago(st.Control.HeartbeatAgeMs), st.Control.ConfigFile))
	t.row("dataplane", dataplaneLine(st.Dataplane))
	t.row("region", fmt.Sprintf("%s, %s, %d lcore slots, lut %d/%d, %d flows per lcore", st.Region.Path,
		bytesIEC(st.Region.SizeBytes), st.Region.Lcores, st.Region.LUTUsed, st.Region.LUTCapacity, st.Region.FlowEntries))
	gen := fmt.Sprintf("published %d, active %d (set %d)", st.Region.PublishedGeneration, st.Region.ActiveGeneration, st.Region.Active)
	if st.Publish.Count > 0 {
		gen += fmt.Sprintf(", last publish took %.2fms (%d by this daemon)", st.Publish.DurationMs, st.Publish.Count)
	}
	t.row("generation", gen)
	if st.Publish.LastError != "" {
		t.row("last error", st.Publish.LastError)
	}
	t.row("services", fmt.Sprintf("%d, backends %d (%d taking new flows)", st.Services, st.Backends, st.Up))
	if err := t.flush(); err != nil {
		return err
	}
	return printLcores(w, st.Lcores)
}

func dataplaneLine(d daemon.DataplaneStatus) string {
	if !d.Alive {
		return fmt.Sprintf("NOT RUNNING (heartbeat %s)", ago(d.HeartbeatAgeMs))
	}
	return fmt.Sprintf("running, pid %d, up %s, heartbeat %s, %d lcores, %d ports", d.PID,
		humanSeconds(d.UptimeSeconds), ago(d.HeartbeatAgeMs), d.LcoresRunning, d.Ports)
}

func printLcores(w io.Writer, lcores []daemon.LcoreStatus) error {
	if len(lcores) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	t := newTable(w, "SLOT", "LCORE", "ONLINE", "GENERATION", "HEARTBEAT", "BUSY POLLS", "IDLE POLLS", "SLEEPS")
	for _, l := range lcores {
		t.row(l.Slot, l.LcoreID, yesNo(l.Online), l.SeenGeneration, ago(l.HeartbeatAgeMs), l.BusyPolls, l.IdlePolls, l.Sleeps)
	}
	return t.flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// regionInspection is what `tenbin shm inspect` prints.
type regionInspection struct {
	Path       string            `json:"path"`
	Magic      string            `json:"magic"`
	Version    uint32            `json:"version"`
	HeaderSize uint32            `json:"header_size"`
	Status     daemon.Status     `json:"status"`
	ControlPID uint64            `json:"control_pid"`
	Sets       [2]setSummary     `json:"config_sets"`
	Counters   map[string]uint64 `json:"counters"`
	Drops      map[string]uint64 `json:"drops"`
}

type setSummary struct {
	Generation uint64   `json:"generation"`
	Services   []string `json:"services"`
	Backends   int      `json:"backends"`
	LUTUsed    uint32   `json:"lut_used"`
}

func inspectRegion(r *shm.Region) regionInspection {
	h := r.Header()
	in := regionInspection{
		Path: r.Path, Magic: fmt.Sprintf("%#x", h.Magic), Version: h.Version, HeaderSize: h.HeaderSize,
		ControlPID: atomic.LoadUint64(&h.ControlPID),
		Counters:   map[string]uint64{}, Drops: map[string]uint64{},
	}
	daemon.ReadRegionStatus(r, &in.Status)
	for i := range in.Sets {
		cs := r.ConfigSet(i)
		s := setSummary{Generation: atomic.LoadUint64(&cs.Generation), LUTUsed: cs.LUTUsed, Services: []string{}}
		for j := 0; j < int(cs.NServices) && j < shm.MaxServices; j++ {
			if cs.Services[j].Family != 0 {
				s.Services = append(s.Services, shm.CString(cs.Services[j].Name[:]))
			}
		}
		for j := 1; j < int(cs.NBackends) && j < shm.MaxBackends; j++ {
			if cs.Backends[j].Family != 0 {
				s.Backends++
			}
		}
		in.Sets[i] = s
	}
	for l := range int(h.NLcores) {
		c := r.Counters(l)
		for i, name := range shm.CounterNames {
			in.Counters[name] += atomic.LoadUint64(&c.Global[i])
		}
		for i, name := range shm.DropReasonNames {
			in.Drops[name] += atomic.LoadUint64(&c.Drops[i])
		}
	}
	return in
}

func printInspect(w io.Writer, in regionInspection) error {
	st := in.Status
	t := newTable(w)
	t.row("region", fmt.Sprintf("%s, magic %s, layout version %d, header %d bytes, %s", in.Path, in.Magic, in.Version, in.HeaderSize, bytesIEC(st.Region.SizeBytes)))
	t.row("sizes", fmt.Sprintf("%d lcore slots, lut capacity %d per set, %d flows per lcore", st.Region.Lcores, st.Region.LUTCapacity, st.Region.FlowEntries))
	t.row("generation", fmt.Sprintf("published %d, active set %d", st.Region.PublishedGeneration, st.Region.Active))
	for i, s := range in.Sets {
		active := ""
		if i == st.Region.Active {
			active = " (active)"
		}
		t.row(fmt.Sprintf("set %d", i), fmt.Sprintf("generation %d%s, %d services %v, %d backends, lut %d used",
			s.Generation, active, len(s.Services), s.Services, s.Backends, s.LUTUsed))
	}
	t.row("control", fmt.Sprintf("pid %d, heartbeat %s", in.ControlPID, ago(st.Control.HeartbeatAgeMs)))
	t.row("dataplane", dataplaneLine(st.Dataplane))
	if err := t.flush(); err != nil {
		return err
	}
	if err := printLcores(w, st.Lcores); err != nil {
		return err
	}
	fmt.Fprintln(w)
	t = newTable(w, "COUNTER", "VALUE")
	for _, name := range shm.CounterNames {
		t.row(name, in.Counters[name])
	}
	for _, name := range shm.DropReasonNames {
		if v := in.Drops[name]; v > 0 {
			t.row("drop "+name, v)
		}
	}
	return t.flush()
}
