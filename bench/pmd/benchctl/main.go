// Command benchctl is the Go side of the benchmark scripts in bench/pmd: it publishes the
// benchmark service into a dataplane's region, samples the region's counters, parses
// testpmd's statistics, drives publishes under load and writes every figure as a record
// (bench/report/record) for bench/report. See bench/README.md.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"tenbin/bench/report/record"
)

// errUsage marks bad input; main exits 2 for it.
var errUsage = errors.New("usage")

// recordFlags say where a command's record goes and what it is called.
type recordFlags struct {
	out, part, name string
	rep             int
}

func (f *recordFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.out, "out", "", "append the record to this raw.jsonl (default: print it)")
	c.Flags().StringVar(&f.part, "part", "", "benchmark part, e.g. pmd")
	c.Flags().StringVar(&f.name, "name", "", "what was measured, e.g. \"tenbin l2dsr\"")
	c.Flags().IntVar(&f.rep, "rep", 0, "repeat number")
}

// emit completes r with the flags' part, name and rep and writes it.
func (f *recordFlags) emit(r record.Record) error {
	if r.Part == "" {
		r.Part = f.part
	}
	if r.Name == "" {
		r.Name = f.name
	}
	if r.Rep == 0 {
		r.Rep = f.rep
	}
	if f.out != "" {
		return record.Append(f.out, r)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Println(string(b))
	return err
}

var rootCmd = &cobra.Command{
	Use:           "benchctl",
	Short:         "benchmark helper: publish, sample counters, parse testpmd, churn, memory",
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	rootCmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return fmt.Errorf("%w: %v", errUsage, err) })
	if err := rootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "benchctl:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}
