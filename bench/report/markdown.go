package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Report is everything one run produced; it is the JSON file and the source of the summary.
type Report struct {
	Stamp       string                `json:"stamp"`
	Quick       bool                  `json:"quick"`
	ElapsedS    int                   `json:"elapsed_s"`
	Machine     Machine               `json:"machine"`
	Goals       []Goal                `json:"goals"`
	Figures     []*Figure             `json:"figures"`
	GoBench     map[string][]*GoBench `json:"go_benchmarks"`
	Proxy       string                `json:"proxy_output,omitempty"`
	GoOutput    map[string]string     `json:"go_output,omitempty"` // verbatim, where no Benchmark lines parsed
	Plots       []string              `json:"plots,omitempty"`
	PlotProblem string                `json:"plot_problem,omitempty"`
	Raw         any                   `json:"raw"`
}

func mark(met *bool) string {
	switch {
	case met == nil:
		return "not measured"
	case *met:
		return "**met**"
	default:
		return "**missed**"
	}
}

func (r *Report) fig(part, name string) *Figure { return find(r.Figures, part, name) }

// cell is a figure's median with its spread, or why it is missing.
func cell(f *Figure) string {
	switch {
	case f == nil:
		return "—"
	case !f.Measured():
		return "not measured: " + f.NotMeasured
	case len(f.Values) == 1:
		return fmt.Sprintf("%.2f", f.Median)
	default:
		return fmt.Sprintf("%.2f (%.2f–%.2f)", f.Median, f.Min, f.Max)
	}
}

func ratioCell(num, den *Figure) string {
	if r, ok := ratio(num, den); ok {
		return fmt.Sprintf("%.2f×", r.Value)
	}
	return "—"
}

// WriteMarkdown writes the summary: goals first, then each part's table.
func (r *Report) WriteMarkdown(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	kind := "full run (15-second runs, 5 repeats)"
	if r.Quick {
		kind = "quick run (BENCH_QUICK=1: 3-second runs, 3 repeats of the contenders the goals rest on, short Go benchmarks)"
	}
	m := r.Machine
	p("# tenbin benchmarks, %s\n\n", r.Stamp)
	p("`make bench`, %s, %d s. Machine: %s, %d cores, Linux %s, %s, DPDK %s, hugepages: %s. "+
		"Load average when the report was written: %s (the machine is shared; every ratio below "+
		"compares runs made seconds apart in the same repeat).\n\n",
		kind, r.ElapsedS, m.CPU, m.Cores, m.Kernel, m.Go, m.DPDK, m.Hugepage, m.LoadAvg)

	p("## Goals\n\n| goal | measured | verdict |\n| --- | --- | --- |\n")
	for _, g := range r.Goals {
		p("| %s | %s | %s |\n", g.Goal, esc(g.Measured), mark(g.Met))
	}

	io1, ms1 := r.fig("pmd", "testpmd io"), r.fig("pmd", "testpmd macswap")
	p("\n## Through PMDs\n\nnet_pcap replaying 1024 TCP flows of 64-byte frames (flowgen, `infinite_rx=1`) → " +
		"net_null (`no-rx=1`), one forwarding core each (testpmd `-l 0,1` forwards on lcore 1; tenbin " +
		"`--lcores 1`). Mpps leaving the null port: testpmd's per-second Tx-pps, tenbin's region " +
		"tx_pkts per second; the first second of each run is warm-up. Median of the runs (min–max). " +
		"tenbin nat and fnat, and l2dsr once more, replay the same flows behind one opening SYN each (below). " +
		"Without hugepages DPDK's default mbuf pool puts each mbuf alone at the start of a 4 KiB page, so " +
		"all mbuf headers, and all frames' first lines, share one L1 set and a burst of 32 evicts its own " +
		"lines; tenbin's pool lays its mbufs end to end there. testpmd macswap packed buffers " +
		"(`--mp-alloc=xbuf`: headers in a pool of their own, data end to end) is the like-for-like " +
		"comparison, run every repeat; testpmd macswap burst 16 (in the runs that also measure the extras) " +
		"is the default pool at `--burst=16`. The goal is against testpmd's default, as the issue states it.\n\n")
	msPacked := r.fig("pmd", pmdMacswapPacked)
	p("| contender | Mpps | ÷ testpmd macswap | ÷ macswap packed buffers | ÷ testpmd io |\n| --- | --- | --- | --- | --- |\n")
	for _, n := range append([]string{"testpmd io", "testpmd macswap", pmdMacswapPacked, "testpmd macswap burst 16", "tenbin passthrough", "tenbin l2dsr", "tenbin l3dsr", natPMDBase}, natPMDModes...) {
		f := r.fig("pmd", n)
		p("| %s | %s | %s | %s | %s |\n", n, esc(cell(f)), ratioCell(f, ms1), ratioCell(f, msPacked), ratioCell(f, io1))
	}
	r.plot(w, "pmd")
	r.writeNATPMD(w)

	p("\n## Scaling 1 → 2 lcores\n\nSame vdevs, tenbin l2dsr; with 2 lcores net_pcap gets a second rx queue " +
		"replaying the same mix. This machine has 2 cores in all: the second lcore takes the core " +
		"that testpmd's statistics, the Go runtime, the OS and other tenants otherwise use, so the " +
		"2-lcore figure shows how the loop scales when nothing else runs, not a 2-core appliance.\n\n")
	p("| run | Mpps | × 1 lcore |\n| --- | --- | --- |\n")
	one := r.fig("pmd", "tenbin l2dsr")
	p("| tenbin l2dsr, 1 lcore | %s | 1.00× |\n", esc(cell(one)))
	p("| tenbin l2dsr, 2 lcores | %s | %s |\n", esc(cell(r.fig("scaling", "tenbin l2dsr 2 lcores"))), ratioCell(r.fig("scaling", "tenbin l2dsr 2 lcores"), one))
	if f := r.fig("scaling", "testpmd io 2 cores"); f != nil {
		p("| testpmd io, 1 forwarding core | %s | 1.00× |\n", esc(cell(io1)))
		p("| testpmd io, 2 forwarding cores | %s | %s |\n", esc(cell(f)), ratioCell(f, io1))
	}

	r.writeVirtio(w)

	p("\n## Publishes under load\n\ntenbin forwards the flow mix in l2dsr while benchctl publishes 1,000 config sets " +
		"(16 and 17 backends in turn: a new Maglev table each time). After the dataplane stops, " +
		"lost = drops of any reason since the first config was live + packets the final counters " +
		"do not account for (rx − tx − kernel − drops).\n\n")
	p("| figure | value |\n| --- | --- |\n")
	if f := r.fig("publish", "publish latency"); f.Measured() {
		p("| publish latency, median | %.0f µs |\n| p99 / max | %.0f / %.0f µs |\n", f.Median, num(f.Extra["p99_us"]), num(f.Extra["max_us"]))
		p("| publishes that timed out waiting for the lcores | %.0f |\n", num(f.Extra["failed"]))
	} else {
		p("| publish latency | %s |\n", esc(cell(f)))
	}
	if f := r.fig("publish", "lost across publishes"); f.Measured() {
		p("| packets lost | %.0f of %.0f received while publishing; drops by reason: %s |\n", f.Median, num(f.Extra["rx"]), drops(f.Extra["drops"]))
	} else {
		p("| packets lost | %s |\n", esc(cell(f)))
	}

	r.writeMemory(w)
	r.writeGoBench(w, "maglev", "Maglev table build (bench/maglev, tenbin vs kkdai/maglev)")
	r.plot(w, "maglev")
	r.writeGoBench(w, "fastpath", "In-process fast path (bench/fastpath)")
	r.writeNAT(w)
	if r.Proxy != "" {
		p("\n## L7 proxy (bench/proxy/run.sh, verbatim)\n\n```\n%s\n```\n", strings.TrimSpace(r.Proxy))
	} else if f := r.fig("proxy", "proxy"); f != nil {
		p("\n## L7 proxy\n\nnot measured: %s\n", f.NotMeasured)
	}

	p("\n## Not measured\n\n")
	any := false
	for _, f := range r.Figures {
		if !f.Measured() && f.NotMeasured != "" {
			p("- %s / %s: %s\n", f.Part, f.Name, f.NotMeasured)
			any = true
		}
	}
	if r.PlotProblem != "" {
		p("- plots: %s\n", r.PlotProblem)
		any = true
	}
	if !any {
		p("Everything above was measured.\n")
	}
	p("\nRaw runs, medians and the machine: `%s.json` beside this file. Reproduce: `make bench` "+
		"(or `BENCH_QUICK=1 make bench`); what each part measures: bench/README.md.\n", r.Stamp)
}

func (r *Report) writeVirtio(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	layout := "combined"
	if f := r.fig("virtio", "layout"); f != nil {
		if l, ok := f.Extra["layout"].(string); ok {
			layout = l
		}
	}
	p("\n## Virtio lab\n\ntestpmd replays the flow mix into net_virtio_user0 ⇄ vhost-user ⇄ the middle's " +
		"net_vhost0; the middle forwards out of net_vhost1 ⇄ vhost-user ⇄ net_virtio_user1, where " +
		"testpmd counts what arrives. ")
	if layout == "split" {
		p("Layout `split`: 3 DPDK processes, generator and sink (rxonly) time-sharing CPU 0, the middle on CPU 1.\n\n")
	} else {
		p("Layout `combined`: generator and sink are one testpmd with one forwarding lcore on CPU 0 " +
			"(ports chained pcap → virtio_user0, virtio_user1 → pcap), the middle polls on CPU 1, so no " +
			"two pollers time-share a core (with a separate sink process sharing CPU 0 the kernel's " +
			"millisecond time slices overflow the 256-descriptor rings and the sink, not the middle, is measured).\n\n")
	}
	p("| middle | received by the sink, Mpps | taken in by the middle, Mpps | refused by the middle | ÷ testpmd io |\n| --- | --- | --- | --- | --- |\n")
	base := r.fig("virtio", "testpmd io")
	for _, n := range []string{"testpmd io", "tenbin passthrough", "tenbin l2dsr"} {
		f, off := r.fig("virtio", n), r.fig("virtio", n+" offered")
		if f == nil {
			continue
		}
		refused := "—"
		if off.Measured() {
			tx, drop := num(off.Extra["tx_packets"]), num(off.Extra["tx_dropped"])
			if tx+drop > 0 {
				refused = fmt.Sprintf("%.0f%%", 100*drop/(tx+drop))
			}
		}
		p("| %s | %s | %s | %s | %s |\n", n, esc(cell(f)), esc(cell(off)), refused, ratioCell(f, base))
	}
	p("\n\"Refused\" is the share of the generator's packets the middle's ring had no room for (last run); " +
		"near 0%% means the generator, not the middle, set the pace.\n")
	if f := r.fig("virtio", "pktgen"); f != nil && f.NotMeasured != "" {
		p("\ndpdk-pktgen: %s.\n", f.NotMeasured)
	}
	r.plot(w, "virtio")
}

func (r *Report) writeMemory(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("\n## Memory\n\n")
	if f := r.fig("memory", "bytes per flow entry"); f.Measured() {
		p("A flow entry is %.0f bytes (struct tenbin_flow in the region ABI). ", f.Median)
	}
	p("Per table size, tenbin l2dsr replaying a mix of distinct flows, one lcore:\n\n")
	p("| flow table | flows offered | flows created (flow_new − flow_expired) | Mpps while filling | region size | region in memory | dataplane VmRSS | control plane VmRSS |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, f := range r.Figures {
		if f.Part != "memory" || !strings.HasPrefix(f.Name, "dataplane") {
			continue
		}
		table := strings.TrimPrefix(f.Name, "dataplane, ")
		if !f.Measured() {
			p("| %s | not measured: %s | | | | | | |\n", table, esc(f.NotMeasured))
			continue
		}
		x := f.Extra
		p("| %.0f entries | %.0f | %.0f | %.3g | %.0f MiB | %.0f MiB | %.0f MiB (shmem %.0f, anon %.0f) | %s |\n",
			num(x["flow_entries"]), num(x["offered_flows"]), num(x["flows_in_table"]), num(x["fill_mpps"]), num(x["region_mib"]),
			num(x["region_resident_mib"]), f.Median, num(x["rss_shmem_mib"]), num(x["rss_anon_mib"]),
			esc(controlRSS(r.fig("memory", "control plane, "+table))))
	}
	p("\nDataplane VmRSS includes the EAL's memory (the mbuf pool holding the replayed capture, `--no-huge`, " +
		"counted as shmem); the region's resident size is the flow table's real cost. A 10M-flow mix is " +
		"not replayed: net_pcap keeps the capture in mbufs (~2.4 KB each), 24 GB for 10M frames. " +
		"Control plane: `tenbin control` attached to the same region (a 16-backend l2dsr service, its " +
		"Maglev table published, no health checks), measured a second after it published; anon is its " +
		"Go heap and stacks, file its binary and the region pages it touched (the region is a file).\n")
}

// controlRSS is the control daemon's VmRSS cell: total with anon and file beside it.
func controlRSS(f *Figure) string {
	if !f.Measured() {
		return cell(f) // "—" or why
	}
	return fmt.Sprintf("%.0f MiB (anon %.0f, file %.0f)", f.Median, num(f.Extra["rss_anon_mib"]), num(f.Extra["rss_file_mib"]))
}

func (r *Report) writeGoBench(w io.Writer, part, title string) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("\n## %s\n\n", title)
	bs := r.GoBench[part]
	if len(bs) == 0 {
		if out := strings.TrimSpace(r.GoOutput[part]); out != "" {
			p("Output, verbatim:\n\n```\n%s\n```\n", out)
		} else if f := r.fig(part, part); f != nil && f.NotMeasured != "" {
			p("not measured: %s\n", f.NotMeasured)
		} else {
			p("no results\n")
		}
		return
	}
	us := units(bs)
	p("Medians of `go test -bench` runs.\n\n| benchmark | runs | %s |\n|---|---|%s\n", strings.Join(us, " | "), strings.Repeat("---|", len(us)))
	for _, b := range bs {
		if b.Skipped != "" {
			p("| %s | skipped: %s |%s\n", b.Name, esc(b.Skipped), strings.Repeat(" |", len(us)-1))
			continue
		}
		cells := make([]string, len(us))
		for i, u := range us {
			if v, ok := b.Medians[u]; ok {
				cells[i] = human(v)
			}
		}
		p("| %s | %d | %s |\n", b.Name, b.Runs, strings.Join(cells, " | "))
	}
}

// plot links the part's PNG when one was drawn.
func (r *Report) plot(w io.Writer, part string) {
	name := r.Stamp + "-" + part + ".png"
	for _, p := range r.Plots {
		if p == name {
			fmt.Fprintf(w, "\n![%s](%s)\n", part, name)
		}
	}
}

func human(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.3g", v)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int:
		return float64(x)
	}
	return 0
}

// drops formats a drops-by-reason map, "none" when empty.
func drops(v any) string {
	m, _ := v.(map[string]any)
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %.0f", k, num(m[k]))
	}
	return strings.Join(parts, ", ")
}

func esc(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
