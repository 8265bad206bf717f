package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"

	"github.com/spf13/cobra"

	"tenbin/realserver"
)

func init() { rootCmd.AddCommand(newRealserverCmd()) }

// realserverFlags are the flags of the realserver subcommands; each subcommand registers the
// ones it uses.
type realserverFlags struct {
	vips   []string
	rips   []string
	mode   string
	dscp   string
	state  string
	dryRun bool
	output string
}

func newRealserverCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "realserver",
		Short: "Prepare and diagnose a real server for direct server return (run it on the real server)",
		Long: `Prepare and diagnose a real server behind tenbin in a DSR mode.

l2dsr: the VIP goes on lo (/32 or /128) and ARP is kept from answering for it
       (arp_ignore=1, arp_announce=2).
l3dsr: the VIP goes on lo, and an nftables rule maps packets the balancer sends to this
       server's address (--rip) with the VIP's DSCP back to the VIP, without conntrack;
       strict rp_filter on the interface toward the balancer is relaxed to loose.

setup records what it changed in a state file, and teardown undoes exactly that.`,
		Example: `  tenbin realserver setup --mode l2dsr --vip 198.18.0.10
  tenbin realserver setup --mode l3dsr --vip 198.18.0.10 --vip 198.18.0.11@0x24 --rip 198.18.1.2 --dry-run
  tenbin realserver check --mode l3dsr --vip 2001:db8::10 --rip 2001:db8:1::2 --output json
  tenbin realserver teardown`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newRealserverSetupCmd(), newRealserverTeardownCmd(), newRealserverCheckCmd())
	return cmd
}

func (f *realserverFlags) addSpecFlags(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.vips, "vip", nil, "VIP this server answers for, ADDR or ADDR@DSCP (repeatable; IPv4 or IPv6)")
	cmd.Flags().StringVar(&f.mode, "mode", "", "DSR mode the balancer uses: l2dsr or l3dsr")
	cmd.Flags().StringArrayVar(&f.rips, "rip", nil, "l3dsr: this server's address the balancer sends to (one per address family)")
	cmd.Flags().StringVar(&f.dscp, "dscp", fmt.Sprintf("%#02x", realserver.DefaultDSCP), "l3dsr: DSCP naming the VIP, for VIPs without @DSCP (34, 0x22 or af41)")
}

func (f *realserverFlags) addStateFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.state, "state", realserver.DefaultStatePath, "file recording what setup changed")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "print the changes, one per line as shell commands, and change nothing")
}

// spec turns the flags into a validated spec; every problem is a usage error.
func (f *realserverFlags) spec(cmd *cobra.Command) (realserver.Spec, error) {
	mode, err := realserver.ParseMode(f.mode)
	if err != nil {
		return realserver.Spec{}, newUsageError("--mode: %w", err)
	}
	if mode != realserver.ModeL3DSR && cmd.Flags().Changed("dscp") {
		return realserver.Spec{}, newUsageError("--dscp applies only to --mode l3dsr")
	}
	dscp, err := realserver.ParseDSCP(f.dscp)
	if err != nil {
		return realserver.Spec{}, newUsageError("--dscp: %w", err)
	}
	spec := realserver.Spec{Mode: mode}
	for _, s := range f.vips {
		if mode != realserver.ModeL3DSR && strings.Contains(s, "@") {
			return realserver.Spec{}, newUsageError("--vip %s: @DSCP applies only to --mode l3dsr", s)
		}
		v, err := realserver.ParseVIP(s, dscp)
		if err != nil {
			return realserver.Spec{}, newUsageError("--vip: %w", err)
		}
		spec.VIPs = append(spec.VIPs, v)
	}
	for _, s := range f.rips {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return realserver.Spec{}, newUsageError("--rip %q: %w", s, err)
		}
		spec.RIPs = append(spec.RIPs, a.Unmap())
	}
	if err := spec.Validate(); err != nil {
		return realserver.Spec{}, usageError{err}
	}
	return spec, nil
}

func (f *realserverFlags) options(cmd *cobra.Command) realserver.Options {
	return realserver.Options{
		StatePath: f.state,
		DryRun:    f.dryRun,
		Log:       slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
}

func newRealserverSetupCmd() *cobra.Command {
	var f realserverFlags
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Put the VIPs on lo and set sysctls and nftables for the DSR mode (idempotent)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec, err := f.spec(cmd)
			if err != nil {
				return err
			}
			res, err := realserver.Setup(cmd.Context(), realserver.DefaultKernel(), spec, f.options(cmd))
			printChanges(cmd.OutOrStdout(), res.Changes, err)
			if err != nil {
				return err
			}
			if len(res.Findings) > 0 {
				printFindings(cmd.ErrOrStderr(), res.Findings)
				return fmt.Errorf("setup done, but %d problem(s) remain that setup does not fix", len(res.Findings))
			}
			return nil
		},
	}
	f.addSpecFlags(cmd)
	f.addStateFlags(cmd)
	return cmd
}

func newRealserverTeardownCmd() *cobra.Command {
	var f realserverFlags
	cmd := &cobra.Command{
		Use:   "teardown",
		Short: "Undo exactly what setup changed, as recorded in the state file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := realserver.Teardown(cmd.Context(), realserver.DefaultKernel(), f.options(cmd))
			printChanges(cmd.OutOrStdout(), res.Changes, err)
			if f.dryRun {
				for _, k := range res.Kept {
					fmt.Fprintln(cmd.OutOrStdout(), "# "+k)
				}
			}
			return err
		},
	}
	f.addStateFlags(cmd)
	return cmd
}

func newRealserverCheckCmd() *cobra.Command {
	var f realserverFlags
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Diagnose this server for the DSR mode and print how to fix each problem (exit 1 if any)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.output != "table" && f.output != "json" {
				return newUsageError("--output %q: want table or json", f.output)
			}
			spec, err := f.spec(cmd)
			if err != nil {
				return err
			}
			findings, err := realserver.Check(cmd.Context(), realserver.DefaultKernel(), spec)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if f.output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(struct {
					Healthy  bool                 `json:"healthy"`
					Mode     realserver.Mode      `json:"mode"`
					Findings []realserver.Finding `json:"findings"`
				}{len(findings) == 0, spec.Mode, append([]realserver.Finding{}, findings...)}); err != nil {
					return err
				}
			} else if len(findings) == 0 {
				fmt.Fprintf(out, "healthy: %s, %d VIP(s)\n", spec.Mode, len(spec.VIPs))
			} else {
				printFindings(out, findings)
			}
			if len(findings) > 0 {
				return fmt.Errorf("realserver check: %d problem(s) found", len(findings))
			}
			return nil
		},
	}
	f.addSpecFlags(cmd)
	cmd.Flags().StringVarP(&f.output, "output", "o", "table", "output format: table or json")
	return cmd
}

// printChanges prints one change per line as the shell command that makes it: the changes
// made (or, in a dry run, planned) before err, if any.
func printChanges(w io.Writer, changes []realserver.Change, err error) {
	if len(changes) == 0 && err == nil {
		fmt.Fprintln(w, "# nothing to change")
	}
	for _, c := range changes {
		fmt.Fprintln(w, c.String())
	}
}

func printFindings(w io.Writer, findings []realserver.Finding) {
	for _, fd := range findings {
		fmt.Fprintf(w, "%-18s %s\n%-18s fix: %s\n", fd.Kind, fd.Problem, "", fd.Fix)
	}
}
