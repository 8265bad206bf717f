package main

import (
	"strings"
	"testing"

	"tenbin/bench/report/record"
)

const maglevOutput = `goos: linux
BenchmarkBuild/N=1000/M=65537/impl=tenbin         	       3	   1700000 ns/op	   1500000 cpu-ns/op	  283000 B/op	       5 allocs/op
BenchmarkBuild/N=1000/M=65537/impl=tenbin         	       3	   1900000 ns/op	   1600000 cpu-ns/op	  283000 B/op	       5 allocs/op
BenchmarkBuild/N=1000/M=65537/impl=kkdai          	       1	 557000000 ns/op	 500000000 cpu-ns/op	524000000 B/op	    3000 allocs/op
--- SKIP: BenchmarkBuild/N=1000/M=655373/impl=kkdai
    build_test.go:40: kkdai/maglev would allocate 5000 MB of permutations
PASS
`

func TestGoBenchOutputBecomesMediansPerUnitAndSkipReasons(t *testing.T) {
	bs := ParseGoBench(strings.NewReader(maglevOutput))
	if len(bs) != 3 {
		t.Fatalf("%d benchmarks, want 3", len(bs))
	}
	if b := bs[0]; b.Runs != 2 || b.Medians["ns/op"] != 1800000 || b.Medians["cpu-ns/op"] != 1550000 {
		t.Fatalf("tenbin: %+v", b)
	}
	if bs[2].Skipped == "" || bs[2].Runs != 0 {
		t.Fatalf("skipped case: %+v", bs[2])
	}
	if u := units(bs); u[0] != "ns/op" {
		t.Fatalf("units %v, want ns/op first", u)
	}
}

func runs(part, name string, vals ...float64) []record.Record {
	var out []record.Record
	for i, v := range vals {
		out = append(out, record.Record{Part: part, Name: name, Rep: i + 1, Value: v, Unit: "Mpps"})
	}
	return out
}

func TestGoalsJudgeSideBySideRatiosAndSayWhatWasNotMeasured(t *testing.T) {
	var recs []record.Record
	recs = append(recs, runs("pmd", "testpmd macswap", 10, 20, 12)...)
	// Per repeat tenbin is 0.9, 0.5 (a noisy second run) and 0.9 of macswap: median 0.9.
	recs = append(recs, runs("pmd", "tenbin l2dsr", 9, 10, 10.8)...)
	recs = append(recs, record.Record{Part: "virtio", Name: "tenbin l2dsr", NotMeasured: "tenbin-dataplane is not built"})
	recs = append(recs, runs("virtio", "testpmd io", 3)...)
	recs = append(recs, record.Record{Part: "publish", Name: "lost across publishes", Value: 0, Unit: "packets",
		Extra: map[string]any{"rx": 5e6}})
	recs = append(recs, record.Record{Part: "memory", Name: "bytes per flow entry", Value: 64, Unit: "B"})
	figs := Figures(recs)
	goals := Goals(figs, ParseGoBench(strings.NewReader(maglevOutput)), nil)
	want := map[string]string{
		"L2DSR flow hits":     "not measured",
		"testpmd macswap":     "met",
		"virtio lab":          "not measured",
		"Maglev":              "met",
		"0 packets lost":      "met",
		"≤ 64 bytes per flow": "met",
	}
	for _, g := range goals {
		for key, v := range want {
			if strings.Contains(g.Goal, key) && !strings.HasPrefix(strings.Trim(mark(g.Met), "*"), v) {
				t.Errorf("%s: %s (%s), want %s", g.Goal, mark(g.Met), g.Measured, v)
			}
		}
	}
	if !strings.Contains(goals[1].Measured, "0.90×") {
		t.Errorf("l2dsr ratio %q, want the median of per-repeat ratios 0.90×", goals[1].Measured)
	}
	if !strings.Contains(goals[2].Measured, "tenbin-dataplane is not built") {
		t.Errorf("virtio goal %q does not say why", goals[2].Measured)
	}
	if strings.Contains(goals[1].Measured, "like for like") {
		t.Errorf("l2dsr goal %q speaks of a packed-buffer run that was not made", goals[1].Measured)
	}

	// With macswap on packed buffers measured, its ratio stands beside the verdict, which
	// stays the default macswap's.
	recs = append(recs, runs("pmd", pmdMacswapPacked, 20, 40, 24)...)
	goals = Goals(Figures(recs), nil, nil)
	if !strings.Contains(goals[1].Measured, "0.90×") || !strings.Contains(goals[1].Measured, "like for like, against macswap on packed buffers: 0.45×") ||
		goals[1].Met == nil || !*goals[1].Met {
		t.Errorf("l2dsr goal %q (%s), want met at 0.90× with the packed-buffer 0.45× beside it", goals[1].Measured, mark(goals[1].Met))
	}
}

func TestARetriedStepKeepsItsMeasuredRuns(t *testing.T) {
	recs := []record.Record{{Part: "pmd", Name: "tenbin l2dsr", NotMeasured: "publish failed"}}
	recs = append(recs, runs("pmd", "tenbin l2dsr", 4, 6)...)
	f := find(Figures(recs), "pmd", "tenbin l2dsr")
	if !f.Measured() || f.NotMeasured != "" || f.Median != 5 {
		t.Fatalf("figure %+v, want median 5 and no reason", f)
	}
}

func TestSummaryPutsGoalsFirstAndListsWhatWasNotMeasured(t *testing.T) {
	recs := append(runs("pmd", "testpmd io", 20, 22, 21), runs("pmd", "tenbin l2dsr", 15, 16, 14)...)
	recs = append(recs, record.Record{Part: "virtio", Name: "pktgen", NotMeasured: "dpdk-pktgen is not installable here"})
	r := &Report{Stamp: "2024-01-01-lab", Quick: true, Figures: Figures(recs), GoBench: map[string][]*GoBench{}}
	r.Goals = Goals(r.Figures, nil, nil)
	var b strings.Builder
	r.WriteMarkdown(&b)
	md := b.String()
	for _, want := range []string{"## Goals", "| tenbin l2dsr | 15.00 (14.00–16.00) |", "0.73×", "dpdk-pktgen is not installable here", "## Not measured"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	if strings.Index(md, "## Goals") > strings.Index(md, "## Through PMDs") {
		t.Error("goals do not come first")
	}
}

const fastpathOutput = `load average (1, 5, 15 min): 6.10 6.00 5.90
case          flows       Mpps     ns/pkt      min      max |  cpu Mpps   cpu ns  on-cpu
l2dsr-hit      1024      12.00       83.3    10.00    13.00 |     16.00     62.5     75%
l3dsr-hit      1024       7.86      127.3     5.89     9.58 |      9.00    111.1     87%
l2dsr-hit   1048576       1.37      730.1     1.22     1.66 |      1.50    666.7     91%
`

func TestFastpathTableJudgesTheCacheResidentL2DSRHitPerCPUSecond(t *testing.T) {
	bs := ParseFastpath(strings.NewReader(fastpathOutput))
	if len(bs) != 3 || bs[0].Name != "l2dsr-hit/flows=1024" || bs[0].Medians["cpu Mpps"] != 16 {
		t.Fatalf("parsed %+v", bs)
	}
	g := fastpathGoal(bs)
	if g.Met == nil || !*g.Met || !strings.Contains(g.Measured, "16.0 Mpps per on-CPU second, 12.0 wall-clock (l2dsr-hit/flows=1024)") {
		t.Fatalf("goal %+v", g)
	}
}
