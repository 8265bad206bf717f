package main

import (
	"fmt"
	"io"
	"strings"
)

// NAT through ports (bench/pmd/through_pmd.sh): tenbin nat and fnat forward on the vdevs
// and in the repeats of the through-PMD loop, beside testpmd macswap and tenbin l2dsr.
var natPMDModes = []string{"tenbin nat", "tenbin fnat"}

// natPMDBase is what NAT is divided by: tenbin l2dsr replaying the NAT mix itself (8× the
// frames of the plain mix, which costs net_pcap's replay cache for every contender alike).
// Records from before it ran fall back to the plain-mix tenbin l2dsr.
const natPMDBase = "tenbin l2dsr nat-mix"

// natBase is the l2dsr figure NAT is judged against, and how the text names it.
func natBase(figs []*Figure) (*Figure, string) {
	if f := find(figs, "pmd", natPMDBase); f != nil && f.Measured() {
		return f, "l2dsr on the same mix"
	}
	return find(figs, "pmd", "tenbin l2dsr"), "l2dsr on the plain mix"
}

// natPMDReproduce is the command that measures just this part (bench/README.md says how to
// prepare BENCH_OUT; bench/run.sh does it for the whole run).
const natPMDReproduce = `TENBIN_MODES="l2dsr nat fnat" BENCH_OUT=DIR bench/pmd/through_pmd.sh`

// NATPMDGoal is issue 4's NAT ≥ 0.7× L2DSR goal through ports: each of nat and fnat ÷
// tenbin l2dsr of the same repeats, judged on the slowest. A mode that misses makes the
// goal missed even when the other was not measured; otherwise a mode not measured leaves
// it not measured, with the reason.
func NATPMDGoal(figs []*Figure) Goal {
	g := Goal{Goal: "NAT through ports ≥ 0.7× tenbin's own L2DSR (issue 4; nat and fnat forward on the through-PMD vdevs, ÷ l2dsr replaying the same mix in the same repeats)"}
	l2dsr, base := natBase(figs)
	var each, missing []string
	var worst *Ratio
	missed := false
	for _, n := range natPMDModes {
		f := find(figs, "pmd", n)
		r, ok := ratio(f, l2dsr)
		switch {
		case ok:
			each = append(each, fmt.Sprintf("%s %.3f× (%.2f vs %.2f Mpps of %s, %s)", strings.TrimPrefix(n, "tenbin "), r.Value,
				f.Median, l2dsr.Median, base, runsDesc(f, l2dsr, r)))
			missed = missed || r.Value < natMinRatio
			if worst == nil || r.Value < worst.Value {
				worst = &r
			}
		case !f.Measured():
			missing = append(missing, fmt.Sprintf("%s not measured: %s", strings.TrimPrefix(n, "tenbin "), reason(f)))
		default:
			missing = append(missing, base+" not measured: "+reason(l2dsr))
		}
	}
	var parts []string
	if worst != nil {
		parts = append(parts, fmt.Sprintf("%.3f× at the slowest, %s", worst.Value, strings.TrimPrefix(worst.Num, "tenbin ")))
	}
	g.Measured = strings.Join(append(append(parts, each...), missing...), "; ")
	switch {
	case missed:
		g.Met = verdict(false)
	case worst != nil && len(missing) == 0:
		g.Met = verdict(true)
	default:
		if worst == nil {
			g.Measured = "not measured: " + g.Measured
		}
	}
	return g
}

// runsDesc says what a ratio rests on: paired repeats, or (fewer than 3 pairs, as in the
// quick run's single NAT runs) the medians of each side's runs.
func runsDesc(num, den *Figure, r Ratio) string {
	if r.Pairs > 0 {
		return fmt.Sprintf("median of %d per-repeat ratios", r.Pairs)
	}
	return fmt.Sprintf("medians of %d and %d runs", len(num.Values), len(den.Values))
}

// writeNATPMD writes the NAT rows' view of the through-PMD loop: ÷ tenbin l2dsr with the
// goal beside it, and what the dataplane's counters say the runs did.
func (r *Report) writeNATPMD(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("\n### NAT through ports (issue 4)\n\n"+
		"tenbin nat and fnat forward (client → VIP rewritten toward the backend; fnat also from a local "+
		"address and a source port of its pool, 198.19.1.1 ports 1024–65535) on the vdevs above, run in the "+
		"same repeats as testpmd macswap and tenbin l2dsr. They replay the same 1024 flows behind one opening "+
		"SYN per flow (`flowgen -open-of`: each flow's SYN, then the ACK mix 7 times): nat opens a connection "+
		"only on a SYN and drops an ACK it holds no state for, and no server answers here. Each SYN opens (or, "+
		"replayed, finds) its flow's connection (fnat: takes a port; the pool is checked to hold every flow on "+
		"one lcore); the ACKs that follow, 7 in 8 frames, are established traffic. tenbin l2dsr replays the same "+
		"mix in the same repeats (`tenbin l2dsr nat-mix`) and is what NAT is divided by: the mix holds 8× the frames "+
		"of the plain one, and net_pcap copying from 8192 buffers instead of 1024 costs every contender cache. "+
		"A run that dropped more than 1%% of what it received is "+
		"listed as not measured with its drops. Reproduce this part alone: `%s` (bench/README.md).\n\n", natPMDReproduce)
	ms, l2 := r.fig("pmd", "testpmd macswap"), r.fig("pmd", "tenbin l2dsr")
	base, baseName := natBase(r.Figures)
	p("| mode | Mpps | ÷ testpmd macswap | ÷ tenbin %s | goal | connections opened, ports taken (last run) | drops (last run) |\n"+
		"| --- | --- | --- | --- | --- | --- | --- |\n", baseName)
	if f := r.fig("pmd", natPMDBase); f.Measured() {
		p("| l2dsr, same mix | %s | %s | (÷ l2dsr on the plain mix: %s) | | | |\n", esc(cell(f)), ratioCell(f, ms), ratioCell(f, l2))
	}
	for _, n := range natPMDModes {
		f := r.fig("pmd", n)
		div, goal, opened, dropped := "—", "", "", ""
		if rt, ok := ratio(f, base); ok {
			div, goal = fmt.Sprintf("%.3f×", rt.Value), "≥ 0.7×: missed"
			if rt.Value >= natMinRatio {
				goal = "≥ 0.7×: met"
			}
		}
		if f.Measured() {
			opened = fmt.Sprintf("%.0f, %.0f", num(f.Extra["flow_new"]), num(f.Extra["nat_port_allocs"]))
			dropped = drops(f.Extra["drops"])
		}
		p("| %s | %s | %s | %s | %s | %s | %s |\n", strings.TrimPrefix(n, "tenbin "), esc(cell(f)),
			ratioCell(f, ms), div, goal, opened, dropped)
	}
}
