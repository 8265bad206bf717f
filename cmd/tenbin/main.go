// Command tenbin is the control daemon, the CLI, the L7 proxy and the real-server helper.
// It is pure Go and never links DPDK. Each subcommand lives in its own file and registers
// itself on rootCmd from an init function, so main stays a thin map from flags to packages.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes scripts can rely on.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed (daemon unreachable, apply refused, ...)
	exitUsage   = 2 // bad flags, bad arguments or invalid input files
)

// usageError marks an error caused by the caller's input, so main exits with exitUsage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func newUsageError(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

var rootCmd = &cobra.Command{
	Use:           "tenbin",
	Short:         "tenbin: DPDK load balancer control plane, CLI, L7 proxy and real-server helper",
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	rootCmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	if err := rootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "tenbin:", err)
		var ue usageError
		if errors.As(err, &ue) || isCobraUsageError(err) {
			os.Exit(exitUsage)
		}
		os.Exit(exitFailure)
	}
}
