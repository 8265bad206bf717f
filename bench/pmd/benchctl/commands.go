package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/spf13/cobra"

	"tenbin/bench/report/record"
	"tenbin/control/shm"
)

func init() {
	rootCmd.AddCommand(testpmdCmd(), rateCmd(), waitCmd(), publishCmd(), churnCmd(), lostCmd(), memoryCmd(), recordCmd())
}

// skipStartup drops the samples before the first non-zero one (testpmd's first period
// often ends before forwarding starts), then skip more for warm-up.
func skipStartup(v []float64, skip int) []float64 {
	for len(v) > 0 && v[0] == 0 {
		v = v[1:]
	}
	return v[min(skip, len(v)):]
}

func mpps(pps []float64) []float64 {
	out := make([]float64, len(pps))
	for i, v := range pps {
		out[i] = v / 1e6
	}
	return out
}

// dataplaneFlags name the region of a running dataplane and how long to wait for it.
type dataplaneFlags struct {
	path string
	pid  int
	wait time.Duration
}

func (f *dataplaneFlags) register(c *cobra.Command, wait time.Duration) {
	c.Flags().StringVar(&f.path, "shm", "", "region path")
	c.Flags().IntVar(&f.pid, "pid", 0, "give up as soon as this dataplane process has exited")
	c.Flags().DurationVar(&f.wait, "wait", wait, "deadline: waiting for the dataplane and the whole command")
}

// open waits for the dataplane; the context ends at the --wait deadline.
func (f *dataplaneFlags) open(parent context.Context) (context.Context, context.CancelFunc, *shm.Region, error) {
	ctx, cancel := context.WithTimeout(parent, f.wait)
	r, err := WaitDataplane(ctx, f.path, f.pid)
	if err != nil {
		cancel()
		return nil, nil, nil, err
	}
	return ctx, cancel, r, nil
}

func testpmdCmd() *cobra.Command {
	var rf recordFlags
	var port, skip int
	var dir string
	c := &cobra.Command{
		Use:   "testpmd LOG",
		Short: "record the median Mpps of one port of a testpmd log (--stats-period output)",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			ports := ParseTestpmdStats(f)
			p, ok := ports[port]
			if !ok {
				return rf.emit(record.Record{NotMeasured: fmt.Sprintf("testpmd printed no statistics for port %d (see %s)", port, args[0])})
			}
			pps := p.TxPPS
			if dir == "rx" {
				pps = p.RxPPS
			}
			s := mpps(skipStartup(pps, skip))
			if len(s) == 0 {
				return rf.emit(record.Record{NotMeasured: fmt.Sprintf("port %d never forwarded (see %s)", port, args[0])})
			}
			return rf.emit(record.Record{Value: record.Median(s), Unit: "Mpps", Samples: s, Extra: map[string]any{
				"rx_packets": p.RxPackets, "rx_dropped": p.RxDropped, "tx_packets": p.TxPackets, "tx_dropped": p.TxDropped}})
		},
	}
	rf.register(c)
	c.Flags().IntVar(&port, "port", 1, "testpmd port")
	c.Flags().StringVar(&dir, "dir", "tx", "tx or rx")
	c.Flags().IntVar(&skip, "skip", 1, "warm-up samples to drop after the first non-zero one")
	return c
}

func rateCmd() *cobra.Command {
	var rf recordFlags
	var df dataplaneFlags
	var seconds, skip int
	var maxDrops float64
	c := &cobra.Command{
		Use:   "rate",
		Short: "record a running dataplane's tx Mpps from its region counters, once a second",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel, r, err := df.open(cmd.Context())
			if err != nil {
				return rf.emit(record.Record{NotMeasured: err.Error()})
			}
			defer cancel()
			defer r.Close()
			if err := WaitTraffic(ctx, r); err != nil {
				return rf.emit(record.Record{NotMeasured: err.Error()})
			}
			tx, rx, first, last, err := Rates(cmd.Context(), r, seconds+skip, time.Second)
			if err != nil {
				return err
			}
			tx, rx = tx[min(skip, len(tx)):], rx[min(skip, len(rx)):]
			// Judged on the whole sampled span: the warm-up second has no excuse to drop.
			if err := CheckDrops(first, last, maxDrops); err != nil {
				return rf.emit(record.Record{NotMeasured: err.Error()})
			}
			return rf.emit(record.Record{Value: record.Median(tx), Unit: "Mpps", Samples: tx,
				Extra: map[string]any{"rx_mpps": record.Median(rx), "drops": last.DropsSince(first),
					"flow_new": last.FlowNew, "nat_port_allocs": last.NATPortAllocs}})
		},
	}
	rf.register(c)
	df.register(c, 30*time.Second)
	c.Flags().IntVar(&seconds, "seconds", 5, "measured one-second intervals")
	c.Flags().IntVar(&skip, "skip", 1, "warm-up intervals not counted")
	c.Flags().Float64Var(&maxDrops, "max-drops", 0.01,
		"record \"not measured\" instead of a rate when more than this share of the received packets is dropped (1 = never)")
	return c
}

func serviceFlags(c *cobra.Command, o *ServiceOpts) {
	c.Flags().StringVar(&o.Mode, "mode", "l2dsr", "l2dsr or l3dsr")
	c.Flags().StringVar(&o.VIP, "vip", "198.18.0.100", "the VIP (flowgen's)")
	c.Flags().Uint16Var(&o.Port, "port", 80, "the VIP's port")
	c.Flags().Uint8Var(&o.Proto, "proto", 6, "IP protocol")
	c.Flags().IntVar(&o.Backends, "backends", 16, "backends (198.19.0.1.. with static MACs)")
	c.Flags().Uint8Var(&o.Egress, "egress", 1, "port the backends are behind")
	c.Flags().IntVar(&o.Ports, "ports", 2, "dataplane ports")
	c.Flags().IntVar(&o.LocalAddrs, "local-addrs", 1, "fnat: local addresses in the pool (198.19.1.1..)")
	c.Flags().Uint16Var(&o.NATPortLo, "nat-port-lo", 0, "fnat: lowest source port of the pool (0 = 1024)")
	c.Flags().Uint16Var(&o.NATPortHi, "nat-port-hi", 0, "fnat: highest source port of the pool (0 = 65535)")
	c.Flags().IntVar(&o.Flows, "flows", 0, "fnat: flows in the replayed mix; publishing fails if the pool cannot hold them (0 = no check)")
}

func waitCmd() *cobra.Command {
	var df dataplaneFlags
	c := &cobra.Command{
		Use:   "wait",
		Short: "wait until a dataplane runs in the region (fails at once if --pid exits)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, cancel, r, err := df.open(cmd.Context())
			if err != nil {
				return err
			}
			cancel()
			return r.Close()
		},
	}
	df.register(c, 30*time.Second)
	return c
}

func publishCmd() *cobra.Command {
	var o ServiceOpts
	var df dataplaneFlags
	c := &cobra.Command{
		Use:   "publish",
		Short: "publish the benchmark service into a running dataplane's region",
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := o.Desired(0)
			if err != nil {
				return err
			}
			ctx, cancel, r, err := df.open(cmd.Context())
			if err != nil {
				return err
			}
			defer cancel()
			defer r.Close()
			if err := o.CheckPool(int(r.Header().NLcores)); err != nil {
				return err
			}
			gen, err := shm.NewWriter(r).Publish(ctx, d)
			if err != nil {
				return fmt.Errorf("publish: %w", err)
			}
			fmt.Fprintf(os.Stderr, "benchctl: published generation %d: %s %s:%d, %d backends\n", gen, o.Mode, o.VIP, o.Port, o.Backends)
			return nil
		},
	}
	serviceFlags(c, &o)
	df.register(c, 30*time.Second)
	return c
}

func churnCmd() *cobra.Command {
	var rf recordFlags
	var o ServiceOpts
	var df dataplaneFlags
	var state string
	var n int
	c := &cobra.Command{
		Use:   "churn",
		Short: "publish n times under load (alternating n and n+1 backends); record publish latency",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel, r, err := df.open(cmd.Context())
			if err != nil {
				return rf.emit(record.Record{NotMeasured: err.Error()})
			}
			defer cancel()
			defer r.Close()
			res, err := Churn(ctx, r, o, n)
			if err != nil {
				return rf.emit(record.Record{NotMeasured: err.Error()})
			}
			b, err := json.Marshal(res.Before)
			if err != nil {
				return err
			}
			if err := os.WriteFile(state, b, 0o644); err != nil {
				return err
			}
			return rf.emit(record.Record{Value: record.Median(res.LatencyUs), Unit: "µs",
				Extra: map[string]any{"publishes": n, "failed": res.Failed, "p99_us": record.Percentile(res.LatencyUs, 99),
					"max_us": record.Percentile(res.LatencyUs, 100)}})
		},
	}
	rf.register(c)
	serviceFlags(c, &o)
	df.register(c, 5*time.Minute)
	c.Flags().StringVar(&state, "state", "churn-before.json", "where to keep the counters taken before the publishes (for lost)")
	c.Flags().IntVar(&n, "publishes", 1000, "publishes")
	return c
}

func lostCmd() *cobra.Command {
	var rf recordFlags
	var path, state string
	c := &cobra.Command{
		Use:   "lost",
		Short: "after the dataplane stopped: record packets lost since churn's snapshot",
		RunE: func(_ *cobra.Command, _ []string) error {
			b, err := os.ReadFile(state)
			if err != nil {
				return rf.emit(record.Record{NotMeasured: fmt.Sprintf("no snapshot from churn: %v", err)})
			}
			var before Snapshot
			if err := json.Unmarshal(b, &before); err != nil {
				return err
			}
			r, err := shm.Open(path)
			if err != nil {
				return rf.emit(record.Record{NotMeasured: err.Error()})
			}
			defer r.Close()
			l := Lost(before, TakeSnapshot(r))
			return rf.emit(record.Record{Value: float64(l.Lost), Unit: "packets", Extra: map[string]any{
				"rx": l.Rx, "tx": l.Tx, "kernel": l.Kernel, "drops": l.Drops, "unaccounted": l.Unaccounted}})
		},
	}
	rf.register(c)
	c.Flags().StringVar(&path, "shm", "", "region path")
	c.Flags().StringVar(&state, "state", "churn-before.json", "churn's snapshot")
	return c
}

func memoryCmd() *cobra.Command {
	var rf recordFlags
	var path string
	var pid, fill, offered int
	c := &cobra.Command{
		Use:   "memory",
		Short: "let the mix fill the flow table, then record the dataplane's RSS, its region's size and flows",
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := shm.Open(path)
			if err != nil {
				return rf.emit(record.Record{NotMeasured: err.Error()})
			}
			defer r.Close()
			// Let the mix fill the table first; the rate says how fast it did.
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Duration(fill+30)*time.Second)
			defer cancel()
			if err := WaitTraffic(ctx, r); err != nil {
				return rf.emit(record.Record{NotMeasured: err.Error()})
			}
			tx, _, _, _, err := Rates(ctx, r, fill, time.Second)
			if err != nil {
				return err
			}
			rss, err := procStatus(pid)
			if err != nil {
				return rf.emit(record.Record{NotMeasured: err.Error()})
			}
			resident, err := residentKiB(path)
			if err != nil {
				return err
			}
			// Counted, not scanned: reading every entry would fault the whole table into
			// memory and spoil the resident size this step measures.
			h := r.Header()
			var flows uint64
			for i := 0; i < int(h.NLcores); i++ {
				c := r.Counters(i)
				flows += atomic.LoadUint64(&c.Global[shm.CtrFlowNew]) - atomic.LoadUint64(&c.Global[shm.CtrFlowExpired])
			}
			return rf.emit(record.Record{Value: float64(rss["VmRSS"]) / 1024, Unit: "MiB", Extra: map[string]any{
				"rss_shmem_mib": float64(rss["RssShmem"]) / 1024, "rss_anon_mib": float64(rss["RssAnon"]) / 1024,
				"region_mib": float64(h.TotalSize) / (1 << 20), "flow_entries": h.FlowEntries * h.NLcores,
				"flows_in_table": flows, "offered_flows": offered, "bytes_per_flow": unsafe.Sizeof(shm.Flow{}),
				"region_resident_mib": float64(resident) / 1024, "fill_mpps": record.Median(tx)}})
		},
	}
	rf.register(c)
	c.Flags().StringVar(&path, "shm", "", "region path")
	c.Flags().IntVar(&pid, "pid", 0, "dataplane pid")
	c.Flags().IntVar(&fill, "fill", 2, "seconds of traffic before measuring")
	c.Flags().IntVar(&offered, "offered-flows", 0, "distinct flows in the replayed mix")
	return c
}

// residentKiB is how much of a tmpfs file is in memory: its allocated blocks (the flow
// table's pages are allocated when first touched).
func residentKiB(path string) (int64, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return 0, err
	}
	return st.Blocks / 2, nil // 512-byte blocks
}

// procStatus returns the kB fields of /proc/PID/status (VmRSS, RssAnon, RssShmem, ...).
func procStatus(pid int) (map[string]uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		f := strings.Fields(v)
		if !ok || len(f) != 2 || f[1] != "kB" {
			continue
		}
		if n, err := strconv.ParseUint(f[0], 10, 64); err == nil {
			out[k] = n
		}
	}
	return out, nil
}

func recordCmd() *cobra.Command {
	var rf recordFlags
	var value float64
	var unit, notMeasured string
	var extra []string
	c := &cobra.Command{
		Use:   "record",
		Short: "write one record from the shell (a figure, or --not-measured REASON)",
		RunE: func(_ *cobra.Command, _ []string) error {
			r := record.Record{Value: value, Unit: unit, NotMeasured: notMeasured}
			for _, kv := range extra {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return fmt.Errorf("%w: --extra %q, want key=value", errUsage, kv)
				}
				if r.Extra == nil {
					r.Extra = map[string]any{}
				}
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					r.Extra[k] = f
				} else {
					r.Extra[k] = v
				}
			}
			return rf.emit(r)
		},
	}
	rf.register(c)
	c.Flags().Float64Var(&value, "value", 0, "the figure")
	c.Flags().StringVar(&unit, "unit", "", "its unit")
	c.Flags().StringVar(&notMeasured, "not-measured", "", "why there is no figure")
	c.Flags().StringArrayVar(&extra, "extra", nil, "key=value to keep beside the figure (repeatable)")
	return c
}
