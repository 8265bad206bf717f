package main

import (
	"strings"
	"testing"

	"tenbin/bench/report/record"
)

// natPMDRuns is a through-PMD loop of three repeats; nat is 0.625× l2dsr on the same mix
// in each (the second repeat ran on a busy machine, for all contenders alike), fnat
// 0.9375×; l2dsr on the NAT mix is 0.8× l2dsr on the plain one.
func natPMDRuns() []record.Record {
	recs := runs("pmd", "testpmd macswap", 20, 10, 20)
	recs = append(recs, runs("pmd", "tenbin l2dsr", 10, 5, 10)...)
	recs = append(recs, runs("pmd", "tenbin l2dsr nat-mix", 8, 4, 8)...)
	recs = append(recs, runs("pmd", "tenbin nat", 5, 2.5, 5)...)
	recs = append(recs, runs("pmd", "tenbin fnat", 7.5, 3.75, 7.5)...)
	for i := range recs {
		if strings.HasSuffix(recs[i].Name, "nat") {
			recs[i].Extra = map[string]any{"flow_new": 1024.0, "nat_port_allocs": 1024.0, "drops": map[string]any{}}
		}
	}
	return recs
}

func TestNATThroughPortsGoalIsJudgedOnTheSlowerModePairedByRepeat(t *testing.T) {
	g := NATPMDGoal(Figures(natPMDRuns()))
	if g.Met == nil || *g.Met {
		t.Fatalf("nat at 0.625× l2dsr: goal %s (%s), want missed", mark(g.Met), g.Measured)
	}
	for _, want := range []string{"0.625× at the slowest, nat",
		"nat 0.625× (5.00 vs 8.00 Mpps of l2dsr on the same mix, median of 3 per-repeat ratios)", "fnat 0.938×"} {
		if !strings.Contains(g.Measured, want) {
			t.Errorf("measured %q lacks %q", g.Measured, want)
		}
	}
}

func TestNATThroughPortsGoalNamesTheModeThatDroppedInsteadOfARate(t *testing.T) {
	dropped := record.Record{Part: "pmd", Name: "tenbin fnat",
		NotMeasured: "dropping what it receives: 100.0% of 5000 packets received in the measured seconds dropped (nat_no_port 5000)"}
	withNAT := func(nat ...float64) []*Figure {
		recs := append(runs("pmd", "tenbin l2dsr", 10, 10, 10), runs("pmd", "tenbin nat", nat...)...)
		return Figures(append(recs, dropped))
	}
	g := NATPMDGoal(withNAT(8, 8, 8))
	if g.Met != nil || !strings.Contains(g.Measured, "nat 0.800× (8.00 vs 10.00 Mpps of l2dsr on the plain mix") ||
		!strings.Contains(g.Measured, "fnat not measured: dropping") {
		t.Fatalf("nat met, fnat dropped: goal %s (%s), want not measured with both", mark(g.Met), g.Measured)
	}
	// A mode that misses decides the verdict whatever the other did.
	if g := NATPMDGoal(withNAT(5, 5, 5)); g.Met == nil || *g.Met {
		t.Fatalf("nat at 0.5×, fnat not measured: goal %s (%s), want missed", mark(g.Met), g.Measured)
	}
	if g := NATPMDGoal(Figures(runs("pmd", "tenbin l2dsr", 10))); g.Met != nil || !strings.HasPrefix(g.Measured, "not measured: nat not measured: step did not run") {
		t.Fatalf("no NAT runs: %+v", g)
	}
}

func TestSummaryShowsNATThroughPortsBesideMacswapAndL2DSRWithTheGoal(t *testing.T) {
	r := &Report{Stamp: "2024-01-01-lab", Figures: Figures(natPMDRuns()), GoBench: map[string][]*GoBench{}}
	r.Goals = append(Goals(r.Figures, nil, nil), NATPMDGoal(r.Figures))
	var b strings.Builder
	r.WriteMarkdown(&b)
	md := b.String()
	for _, want := range []string{
		"| tenbin nat | 5.00 (2.50–5.00) | 0.25× |",
		"| tenbin fnat | 7.50 (3.75–7.50) | 0.38× |",
		"### NAT through ports (issue 4)",
		"| mode | Mpps | ÷ testpmd macswap | ÷ tenbin l2dsr on the same mix |",
		"| l2dsr, same mix | 8.00 (4.00–8.00) | 0.40× | (÷ l2dsr on the plain mix: 0.80×) |",
		"| nat | 5.00 (2.50–5.00) | 0.25× | 0.625× | ≥ 0.7×: missed | 1024, 1024 | none |",
		"| fnat | 7.50 (3.75–7.50) | 0.38× | 0.938× | ≥ 0.7×: met |",
		"| NAT through ports ≥ 0.7× tenbin's own L2DSR",
		natPMDReproduce,
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
}
