package main

import (
	"github.com/spf13/cobra"

	"tenbin/bench/report/record"
)

func init() { rootCmd.AddCommand(rssCmd()) }

// rssCmd records any process's resident memory (the control daemon's, beside the
// dataplane's that `memory` records), split as the kernel splits it: anonymous (heap,
// stacks), file (the binary's pages) and shmem (the region's pages the process touched).
func rssCmd() *cobra.Command {
	var rf recordFlags
	var pid int
	c := &cobra.Command{
		Use:   "rss",
		Short: "record a process's VmRSS in MiB (RssAnon, RssFile, RssShmem beside it)",
		RunE: func(_ *cobra.Command, _ []string) error {
			st, err := procStatus(pid)
			if err != nil {
				return rf.emit(record.Record{NotMeasured: err.Error()})
			}
			return rf.emit(record.Record{Value: float64(st["VmRSS"]) / 1024, Unit: "MiB", Extra: map[string]any{
				"rss_anon_mib": float64(st["RssAnon"]) / 1024, "rss_file_mib": float64(st["RssFile"]) / 1024,
				"rss_shmem_mib": float64(st["RssShmem"]) / 1024}})
		},
	}
	rf.register(c)
	c.Flags().IntVar(&pid, "pid", 0, "the process")
	return c
}
