package main

import (
	"strings"
	"testing"
)

// Three repeats: in the second the machine was busy for both cases alike.
const natOutput = `BenchmarkProcess/l2dsr-hit         	 1000000	       100.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkNAT/nat-forward           	 1000000	       125.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkNAT/fnat-reply            	 1000000	       150.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkProcess/l2dsr-hit         	 1000000	       300.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkNAT/nat-forward           	 1000000	       375.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkNAT/fnat-reply            	 1000000	       450.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkProcess/l2dsr-hit         	 1000000	       100.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkNAT/nat-forward           	 1000000	       125.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkNAT/fnat-reply            	 1000000	       150.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkNAT/fnat-new-connections  	 1000000	      2000 ns/op	    500000 conn/s	       0 B/op	       0 allocs/op
`

func TestNATGoalsJudgeTheSlowestCasePairedByRepeat(t *testing.T) {
	g := NATGoals(ParseGoBench(strings.NewReader(natOutput)), "")
	if len(g) != 2 {
		t.Fatalf("%d goals, want 2", len(g))
	}
	// fnat-reply is 100/150 = 0.67× in every repeat: below 0.7×, and named.
	if g[0].Met == nil || *g[0].Met || !strings.Contains(g[0].Measured, "0.667× at the slowest, fnat-reply") {
		t.Fatalf("ratio goal: %+v", g[0])
	}
	if g[1].Met == nil || !*g[1].Met || !strings.Contains(g[1].Measured, "500k conn/s") ||
		!strings.Contains(g[1].Measured, "1000000 connections per run") {
		t.Fatalf("conn/s goal: %+v", g[1])
	}
}

func TestNATGoalsSayWhyWhenNotMeasured(t *testing.T) {
	g := NATGoals(nil, "go test -c ./dataplane failed: boom")
	for _, x := range g {
		if x.Met != nil || !strings.Contains(x.Measured, "boom") {
			t.Fatalf("goal without results: %+v", x)
		}
	}
}
