package main

import (
	"bufio"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"tenbin/bench/report/record"
)

// GoBench is one Go benchmark's runs (-count N): per unit, every run's value.
type GoBench struct {
	Name string `json:"name"`
	Runs int    `json:"runs"`
	// Iterations is each run's b.N: for a fixed-count run (-benchtime Nx) it is part of
	// what was measured.
	Iterations []int                `json:"iterations,omitempty"`
	Values     map[string][]float64 `json:"values"`  // unit → one value per run
	Medians    map[string]float64   `json:"medians"` // unit → median
	Skipped    string               `json:"skipped,omitempty"`
}

var (
	benchLine = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+(\d+)\s+(.*)$`)
	skipLine  = regexp.MustCompile(`^\s*\S+_test\.go:\d+: (.*)$`)
	runLine   = regexp.MustCompile(`^--- SKIP: (Benchmark\S+)`)
)

// ParseGoBench reads `go test -bench` output: each result line's value/unit pairs (ns/op,
// B/op, allocs/op and custom metrics such as Mpps), grouped by benchmark name in the order
// first seen. Skipped sub-benchmarks keep their reason.
func ParseGoBench(r io.Reader) []*GoBench {
	byName := map[string]*GoBench{}
	var order []string
	get := func(name string) *GoBench {
		b, ok := byName[name]
		if !ok {
			b = &GoBench{Name: name, Values: map[string][]float64{}}
			byName[name] = b
			order = append(order, name)
		}
		return b
	}
	var skipped string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if m := runLine.FindStringSubmatch(line); m != nil {
			skipped = m[1]
			continue
		}
		if m := skipLine.FindStringSubmatch(line); m != nil && skipped != "" {
			get(skipped).Skipped = m[1]
			skipped = ""
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		b := get(m[1])
		b.Runs++
		if n, err := strconv.Atoi(m[3]); err == nil {
			b.Iterations = append(b.Iterations, n)
		}
		f := strings.Fields(m[4])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			b.Values[f[i+1]] = append(b.Values[f[i+1]], v)
		}
	}
	out := make([]*GoBench, 0, len(order))
	for _, n := range order {
		b := byName[n]
		b.Medians = map[string]float64{}
		for u, v := range b.Values {
			b.Medians[u] = record.Median(v)
		}
		out = append(out, b)
	}
	return out
}

// units lists the units any of the benchmarks report, ns/op first, then alphabetically.
func units(bs []*GoBench) []string {
	seen := map[string]bool{}
	for _, b := range bs {
		for u := range b.Values {
			seen[u] = true
		}
	}
	var out []string
	for u := range seen {
		if u != "ns/op" {
			out = append(out, u)
		}
	}
	sort.Strings(out)
	if seen["ns/op"] {
		out = append([]string{"ns/op"}, out...)
	}
	return out
}
