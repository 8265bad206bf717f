package main

import (
	"fmt"
	"io"
	"strings"

	"tenbin/bench/report/record"
)

// The nat part is dataplane's own Go benchmarks (bench/run.sh natbench): BenchmarkNAT's
// cases and BenchmarkProcess/l2dsr-hit, each one cgo call per packet through the same
// harness, so NAT ÷ L2DSR compares like with like (bench/fastpath's burst figures have no
// NAT case and no cgo call; they are not the denominator).
const (
	natL2DSR       = "BenchmarkProcess/l2dsr-hit"
	natPrefix      = "BenchmarkNAT/"
	natNewConns    = "BenchmarkNAT/fnat-new-connections"
	natMinRatio    = 0.7     // issue 4: NAT ≥ 0.7× tenbin's own L2DSR
	dpvsConnPerSec = 200_000 // DPVS's published new connections per second per worker
)

// natCase is one per-packet NAT case beside the L2DSR figure of the same run.
type natCase struct {
	Name  string
	NsPkt float64
	Runs  int
	Ratio float64 // L2DSR ns/packet ÷ this case's (its Mpps ÷ L2DSR's), paired by repeat
}

// natCases returns the L2DSR benchmark and the NAT per-packet cases in run order, with
// their ratios; l2dsr is nil when the run has no L2DSR figure.
func natCases(bs []*GoBench) (l2dsr *GoBench, cases []natCase) {
	for _, b := range bs {
		if b.Name == natL2DSR && b.Runs > 0 {
			l2dsr = b
		}
	}
	for _, b := range bs {
		ns, ok := b.Medians["ns/op"]
		if !strings.HasPrefix(b.Name, natPrefix) || b.Name == natNewConns || !ok || ns <= 0 {
			continue
		}
		c := natCase{Name: strings.TrimPrefix(b.Name, natPrefix), NsPkt: ns, Runs: b.Runs}
		if l2dsr != nil {
			c.Ratio = pairedRatio(l2dsr.Values["ns/op"], b.Values["ns/op"])
		}
		cases = append(cases, c)
	}
	return l2dsr, cases
}

// pairedRatio is the median of num[i] ÷ den[i]: natbench runs every case once per repeat,
// seconds apart, so run i of each case shared the machine's load of that moment. With
// fewer than 3 pairs it is the ratio of the medians.
func pairedRatio(num, den []float64) float64 {
	var per []float64
	for i := 0; i < len(num) && i < len(den); i++ {
		if den[i] > 0 {
			per = append(per, num[i]/den[i])
		}
	}
	if len(per) >= 3 {
		return record.Median(per)
	}
	if d := record.Median(den); d > 0 {
		return record.Median(num) / d
	}
	return 0
}

func findBench(bs []*GoBench, name string) *GoBench {
	for _, b := range bs {
		if b.Name == name && b.Runs > 0 {
			return b
		}
	}
	return nil
}

// NATGoals are issue 4's performance goals: every NAT case ≥ 0.7× L2DSR (judged on the
// slowest), and new fnat connections per lcore beside DPVS's ~200k per worker.
func NATGoals(bs []*GoBench, why string) []Goal {
	ratioGoal := Goal{Goal: "NAT ≥ 0.7× tenbin's own L2DSR in-process (issue 4; every nat/fnat forward and reply case, one cgo call per packet each)"}
	connGoal := Goal{Goal: "fnat new connections per lcore vs DPVS's published ~200k conn/s per worker (issue 4)"}
	if why == "" {
		why = "no dataplane NAT benchmark output"
	}
	l2dsr, cases := natCases(bs)
	switch {
	case l2dsr == nil:
		ratioGoal.Measured = "not measured: " + why
	case len(cases) == 0:
		ratioGoal.Measured = "not measured: no BenchmarkNAT per-packet case in the output"
	default:
		worst := cases[0]
		for _, c := range cases {
			if c.Ratio < worst.Ratio {
				worst = c
			}
		}
		var each []string
		for _, c := range cases {
			each = append(each, fmt.Sprintf("%s %.3f×", c.Name, c.Ratio))
		}
		ratioGoal.Measured = fmt.Sprintf("%.3f× at the slowest, %s (%.2f vs %.2f Mpps, medians of %d runs); %s",
			worst.Ratio, worst.Name, 1e3/worst.NsPkt, 1e3/l2dsr.Medians["ns/op"], worst.Runs, strings.Join(each, ", "))
		ratioGoal.Met = verdict(worst.Ratio >= natMinRatio)
	}
	if b := findBench(bs, natNewConns); b != nil && b.Medians["conn/s"] > 0 {
		cps := b.Medians["conn/s"]
		connGoal.Measured = fmt.Sprintf("%.0fk conn/s on one lcore (%.2f× DPVS; %s, median of %d runs)",
			cps/1e3, cps/dpvsConnPerSec, connRunDesc(b), b.Runs)
		connGoal.Met = verdict(cps >= dpvsConnPerSec)
	} else {
		connGoal.Measured = "not measured: " + why
	}
	return []Goal{ratioGoal, connGoal}
}

// connRunDesc says how many connections a run opened: the rate depends on it, since every
// new page of a cold flow table costs a page fault until the table is warm.
func connRunDesc(b *GoBench) string {
	if len(b.Iterations) > 0 {
		return fmt.Sprintf("%d connections per run from a cold 1M-entry flow table", b.Iterations[len(b.Iterations)-1])
	}
	return "from a cold 1M-entry flow table"
}

// writeNAT writes the NAT section: every case's ns/packet and Mpps beside L2DSR's.
func (r *Report) writeNAT(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("\n## NAT in-process (issue 4)\n\n")
	bs := r.GoBench["nat"]
	l2dsr, cases := natCases(bs)
	if l2dsr == nil && len(cases) == 0 {
		if f := r.fig("nat", "nat"); f != nil && f.NotMeasured != "" {
			p("not measured: %s\n", f.NotMeasured)
		} else {
			p("no results\n")
		}
		return
	}
	p("`go test -bench 'BenchmarkNAT|BenchmarkProcess/l2dsr-hit' ./dataplane/` (one lcore, `-cpu 1`): " +
		"each packet is one cgo call into `tenbin_process` through the test harness (tens of ns of the " +
		"figure are that call), the same for NAT and L2DSR, so the ratio compares like with like; " +
		"bench/fastpath's burst figures above leave the call out and have no NAT case. A connection is " +
		"opened by its SYN first; \"other lcore\" is its reply arriving on the lcore that does not own it " +
		"(it must find the connection's state there). Each repeat runs every case once, seconds apart; " +
		"a ratio is the median of the per-repeat ratios. Medians of the runs.\n\n")
	p("| case | ns/packet | Mpps | ÷ l2dsr-hit | goal | runs |\n| --- | --- | --- | --- | --- | --- |\n")
	if l2dsr != nil {
		ns := l2dsr.Medians["ns/op"]
		p("| l2dsr-hit (BenchmarkProcess) | %.0f | %.2f | 1.00× | | %d |\n", ns, 1e3/ns, l2dsr.Runs)
	}
	for _, c := range cases {
		ratio, mark := "—", ""
		if c.Ratio > 0 {
			ratio = fmt.Sprintf("%.3f×", c.Ratio)
			mark = "≥ 0.7×: missed"
			if c.Ratio >= natMinRatio {
				mark = "≥ 0.7×: met"
			}
		}
		p("| %s | %.0f | %.2f | %s | %s | %d |\n", c.Name, c.NsPkt, 1e3/c.NsPkt, ratio, mark, c.Runs)
	}
	if b := findBench(bs, natNewConns); b != nil {
		cps := b.Medians["conn/s"]
		p("\nNew fnat connections (SYNs from new client tuples, each allocating a local port and a "+
			"flow entry): **%.0f conn/s** on one lcore, %.2f× DPVS's published ~200k conn/s per worker; "+
			"%s, median of %d runs. The rate depends on the run's length: every new page the connections "+
			"touch in the cold 64 MiB table is a page fault (4 KiB pages: no hugepages here), so short "+
			"runs report less (1k connections: ~8k conn/s) and longer ones more (2M: ~0.7M conn/s).\n",
			cps, cps/dpvsConnPerSec, connRunDesc(b), b.Runs)
	}
}
