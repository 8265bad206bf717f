package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"tenbin/control/api"
	"tenbin/control/config"
)

// Flags every command shares: where the daemon is and how to print.
var global struct {
	socket string
	output string
}

func init() {
	rootCmd.PersistentFlags().StringVar(&global.socket, "socket", config.DefaultAPISocket, "unix socket of the control daemon")
	rootCmd.PersistentFlags().StringVarP(&global.output, "output", "o", "table", "output format: table or json")
	rootCmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
}

// checkOutput refuses an unknown --output before a command changes anything.
func checkOutput() error {
	switch global.output {
	case "table", "json":
		return nil
	}
	return newUsageError("--output %q: want table or json", global.output)
}

func jsonOutput() bool { return global.output == "json" }

// daemonClient is the API client for --socket.
func daemonClient() *api.Client { return api.NewClient(global.socket) }

// daemonError turns an API error into what the operator should read, and an invalid
// configuration into a usage error (exit 2), like `config validate`.
func daemonError(err error) error {
	var ae *api.Error
	switch {
	case errors.Is(err, api.ErrUnreachable):
		return fmt.Errorf("%w (is `tenbin control` running? --socket names another socket)", err)
	case errors.As(err, &ae) && ae.Code == api.CodeInvalidConfig:
		return usageError{ae}
	case errors.As(err, &ae) && (ae.Code == api.CodeNotFound || ae.Code == api.CodeBadRequest):
		return usageError{ae}
	}
	return err
}

// writeJSON prints v indented, as the API sends it.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table is a tab-aligned table with an upper-case header row.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(toAny(header)...)
	}
	return t
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

func (t *table) row(cells ...any) {
	parts := make([]string, len(cells))
	for i, c := range cells {
		parts[i] = fmt.Sprint(c)
	}
	fmt.Fprintln(t.tw, strings.Join(parts, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// ago renders a heartbeat age in milliseconds (-1: never).
func ago(ms int64) string {
	if ms < 0 {
		return "never"
	}
	return humanDuration(time.Duration(ms)*time.Millisecond) + " ago"
}

// humanDuration rounds a duration to what a person reads: 850ms, 3.2s, 5m2s, 3h4m, 2d3h.
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	case d < 48*time.Hour:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	}
	days := d / (24 * time.Hour)
	return fmt.Sprintf("%dd%dh", days, (d-days*24*time.Hour)/time.Hour)
}

// si renders a rate or count with an SI suffix: 950, 1.2K, 3.4M, 5.6G.
func si(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.1fG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fK", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// bytesIEC renders a size: 512B, 1.5KiB, 3.0MiB, 2.0GiB.
func bytesIEC(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// humanSeconds renders an uptime given in seconds.
func humanSeconds(s float64) string { return humanDuration(time.Duration(s * float64(time.Second))) }
