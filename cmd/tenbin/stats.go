package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"tenbin/control/daemon"
)

func init() {
	var watch bool
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "stats [--watch] [--interval 1s]",
		Short: "Show rates per service and backend, like ipvsadm -L --rate (CPS, packets/s, bytes/s)",
		Long: `Show rates per service and backend, measured over --interval: new flows per second
(CPS), packets and bytes per second toward the servers (InPPS, InBPS) and back (OutPPS,
OutBPS: nat and fnat only; DSR replies bypass the balancer), and the flows in the flow tables (an estimate). Drops per second follow
by reason. --watch repeats until interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(); err != nil {
				return err
			}
			if interval < 10*time.Millisecond {
				return newUsageError("--interval %v: want at least 10ms", interval)
			}
			ctx, stop := signal.NotifyContext(contextOf(cmd), os.Interrupt)
			defer stop()
			return runStats(ctx, cmd.OutOrStdout(), interval, watch)
		},
	}
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "refresh every interval until interrupted")
	cmd.Flags().DurationVarP(&interval, "interval", "i", time.Second, "measurement interval")
	rootCmd.AddCommand(cmd)
}

func contextOf(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// Rates are counters' increase per second between two samples.
type Rates struct {
	IntervalSeconds float64            `json:"interval_seconds"`
	Services        []ServiceRates     `json:"services"`
	Drops           map[string]float64 `json:"drops_per_second"`
	RxPPS           float64            `json:"rx_pps"`
	TxPPS           float64            `json:"tx_pps"`
	// fnat local addresses and their open connections at the end of the interval.
	LocalAddresses []daemon.LocalAddrStats `json:"local_addresses,omitempty"`
}

// ServiceRates are one service's rates and its backends'.
type ServiceRates struct {
	Name string `json:"name"`
	ObjRates
	Backends []BackendRates `json:"backends"`
}

// BackendRates are one backend's rates.
type BackendRates struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	ObjRates
}

// ObjRates are what ipvsadm --rate shows.
type ObjRates struct {
	CPS         float64 `json:"cps"`
	InPPS       float64 `json:"in_pps"`
	InBPS       float64 `json:"in_bps"` // bytes per second, as ipvsadm
	OutPPS      float64 `json:"out_pps"`
	OutBPS      float64 `json:"out_bps"`
	ActiveFlows uint64  `json:"active_flows"`
}

func objRates(a, b daemon.ObjCounters, dt float64) ObjRates {
	rate := func(x, y uint64) float64 {
		if y < x { // counters restarted with the dataplane
			return 0
		}
		return float64(y-x) / dt
	}
	return ObjRates{CPS: rate(a.NewFlows, b.NewFlows), InPPS: rate(a.Packets, b.Packets), InBPS: rate(a.Bytes, b.Bytes),
		OutPPS: rate(a.ReplyPackets, b.ReplyPackets), OutBPS: rate(a.ReplyBytes, b.ReplyBytes), ActiveFlows: b.ActiveFlows}
}

// computeRates compares two samples; services and backends match by name.
func computeRates(a, b daemon.Stats) Rates {
	dt := b.At.Sub(a.At).Seconds()
	if dt <= 0 {
		dt = 1
	}
	r := Rates{IntervalSeconds: dt, Drops: map[string]float64{}, LocalAddresses: b.LocalAddresses}
	r.RxPPS = objRates(daemon.ObjCounters{Packets: a.Global["rx_packets"]}, daemon.ObjCounters{Packets: b.Global["rx_packets"]}, dt).InPPS
	r.TxPPS = objRates(daemon.ObjCounters{Packets: a.Global["tx_packets"]}, daemon.ObjCounters{Packets: b.Global["tx_packets"]}, dt).InPPS
	for reason, v := range b.Drops {
		if before := a.Drops[reason]; v > before {
			r.Drops[reason] = float64(v-before) / dt
		}
	}
	prev := map[string]daemon.ServiceStats{}
	for _, s := range a.Services {
		prev[s.Name] = s
	}
	for _, s := range b.Services {
		ps := prev[s.Name]
		sr := ServiceRates{Name: s.Name, ObjRates: objRates(ps.ObjCounters, s.ObjCounters, dt)}
		pb := map[string]daemon.ObjCounters{}
		for _, be := range ps.Backends {
			pb[be.Name] = be.ObjCounters
		}
		for _, be := range s.Backends {
			sr.Backends = append(sr.Backends, BackendRates{Name: be.Name, Address: hostPort(be.Address, be.Port),
				ObjRates: objRates(pb[be.Name], be.ObjCounters, dt)})
		}
		r.Services = append(r.Services, sr)
	}
	return r
}

func runStats(ctx context.Context, w io.Writer, interval time.Duration, watch bool) error {
	c := daemonClient()
	prev, err := c.Stats(ctx)
	if err != nil {
		return daemonError(err)
	}
	keys := map[string]string{} // service → "VIP proto/port", for the table
	if svcs, err := c.Services(ctx); err == nil {
		for _, s := range svcs {
			keys[s.Name] = s.Key
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
		cur, err := c.Stats(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return daemonError(err)
		}
		r := computeRates(prev, cur)
		prev = cur
		if jsonOutput() {
			err = writeJSON(w, r)
		} else {
			if watch && isTerminal(w) {
				fmt.Fprint(w, "\033[H\033[2J") // clear the screen, as watch(1) does
			}
			err = printRates(w, r, keys)
		}
		if err != nil || !watch {
			return err
		}
		if !isTerminal(w) && !jsonOutput() {
			fmt.Fprintln(w)
		}
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func printRates(w io.Writer, r Rates, keys map[string]string) error {
	t := newTable(w, "SERVICE / BACKEND", "ADDRESS", "CPS", "InPPS", "InBPS", "OutPPS", "OutBPS", "ACTIVE")
	for _, s := range r.Services {
		t.row(s.Name, keys[s.Name], si(s.CPS), si(s.InPPS), si(s.InBPS), si(s.OutPPS), si(s.OutBPS), s.ActiveFlows)
		for _, b := range s.Backends {
			t.row("  -> "+b.Name, b.Address, si(b.CPS), si(b.InPPS), si(b.InBPS), si(b.OutPPS), si(b.OutBPS), b.ActiveFlows)
		}
	}
	if err := t.flush(); err != nil {
		return err
	}
	line := fmt.Sprintf("rx %s pps, tx %s pps over %.1fs", si(r.RxPPS), si(r.TxPPS), r.IntervalSeconds)
	if len(r.Drops) > 0 {
		reasons := make([]string, 0, len(r.Drops))
		for k := range r.Drops {
			reasons = append(reasons, k)
		}
		sort.Strings(reasons)
		line += "; drops/s:"
		for _, k := range reasons {
			line += fmt.Sprintf(" %s %s", k, si(r.Drops[k]))
		}
	}
	if len(r.LocalAddresses) > 0 {
		line += "\nfnat local addresses (open connections):"
		for _, la := range r.LocalAddresses {
			line += fmt.Sprintf(" %s %d", la.Address, la.Connections)
		}
	}
	_, err := fmt.Fprintln(w, line)
	return err
}
