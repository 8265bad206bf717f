// Command report gathers one benchmark run (bench/run.sh) into bench/results: the raw
// records and Go benchmark outputs become <stamp>.json (raw runs, medians, the machine),
// <stamp>.md (the goals beside the measured figures, one table per part), PNG plots, and
// LATEST.md, a copy of the newest summary.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"tenbin/bench/report/record"
)

func main() {
	work := flag.String("work", "", "the run's work directory (raw.jsonl, gobench-*.txt, proxy.txt)")
	results := flag.String("results", "bench/results", "where the summary, JSON and plots go")
	stamp := flag.String("stamp", "", "name of this run's files, <date>-<host>")
	elapsed := flag.Int("elapsed", 0, "seconds the run took")
	quick := flag.Bool("quick", false, "this was a BENCH_QUICK run")
	flag.Parse()
	if *work == "" || *stamp == "" {
		fmt.Fprintln(os.Stderr, "report: -work and -stamp are required")
		os.Exit(2)
	}
	if err := run(*work, *results, *stamp, *elapsed, *quick); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(work, results, stamp string, elapsed int, quick bool) error {
	f, err := os.Open(filepath.Join(work, "raw.jsonl"))
	if err != nil {
		return err
	}
	recs, err := record.Read(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("raw.jsonl: %w", err)
	}
	r := &Report{Stamp: stamp, Quick: quick, ElapsedS: elapsed, Machine: describeMachine(),
		Figures: Figures(recs), GoBench: map[string][]*GoBench{}, GoOutput: map[string]string{}, Raw: recs}
	for _, part := range []string{"maglev", "fastpath", "nat"} {
		if b, err := os.ReadFile(filepath.Join(work, "gobench-"+part+".txt")); err == nil {
			r.GoBench[part] = ParseGoBench(strings.NewReader(string(b)))
			if len(r.GoBench[part]) == 0 && part == "fastpath" {
				r.GoBench[part] = ParseFastpath(strings.NewReader(string(b)))
			}
			if len(r.GoBench[part]) == 0 {
				r.GoOutput[part] = string(b)
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(work, "proxy.txt")); err == nil {
		r.Proxy = string(b)
	}
	r.Goals = Goals(r.Figures, r.GoBench["maglev"], r.GoBench["fastpath"])
	natWhy := ""
	if f := find(r.Figures, "nat", "nat"); f != nil {
		natWhy = f.NotMeasured
	}
	r.Goals = append(r.Goals, NATGoals(r.GoBench["nat"], natWhy)...)
	r.Goals = append(r.Goals, NATPMDGoal(r.Figures))
	if err := os.MkdirAll(results, 0o755); err != nil {
		return err
	}
	plots, err := r.drawPlots(results)
	r.Plots = plots
	if err != nil {
		r.PlotProblem = err.Error()
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(results, stamp+".json"), js); err != nil {
		return err
	}
	var md strings.Builder
	r.WriteMarkdown(&md)
	if err := writeFile(filepath.Join(results, stamp+".md"), []byte(md.String())); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(results, "LATEST.md"), []byte(md.String())); err != nil {
		return err
	}
	fmt.Printf("report: bench/results/%s.md (%d figures, %d plots)\n", stamp, len(r.Figures), len(plots))
	return nil
}

// writeFile replaces path through a temporary file, so a reader never sees half a summary.
func writeFile(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
