package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"tenbin/control/config"
	"tenbin/control/daemon"
)

func init() {
	svc := &cobra.Command{Use: "service", Short: "Show services (VIPs) as published"}
	svc.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List every service with its backends' state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(); err != nil {
				return err
			}
			svcs, err := daemonClient().Services(cmd.Context())
			if err != nil {
				return daemonError(err)
			}
			if jsonOutput() {
				return writeJSON(cmd.OutOrStdout(), svcs)
			}
			return printServices(cmd.OutOrStdout(), svcs)
		},
	})
	svc.AddCommand(&cobra.Command{
		Use:               "show NAME",
		Short:             "Show one service and its backends",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeServices,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(); err != nil {
				return err
			}
			s, err := daemonClient().Service(cmd.Context(), args[0])
			if err != nil {
				return daemonError(err)
			}
			if jsonOutput() {
				return writeJSON(cmd.OutOrStdout(), s)
			}
			return printService(cmd.OutOrStdout(), s)
		},
	})
	rootCmd.AddCommand(svc)
}

// completeServices asks the daemon for service names (nothing if it does not answer).
func completeServices(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	svcs, err := daemonClient().Services(cmd.Context())
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	names := make([]string, len(svcs))
	for i, s := range svcs {
		names[i] = s.Name
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

// serviceState sums up a service in a word or two.
func serviceState(s daemon.ServiceView) string {
	if !s.AllDown {
		return "ok"
	}
	switch s.Policy {
	case config.AllDownFallback:
		return "ALL DOWN (fallback)"
	case config.AllDownKeepLast:
		return "ALL DOWN (keep-last)"
	}
	return "ALL DOWN (dropping)"
}

func upCount(bs []daemon.BackendView) (up int) {
	for _, b := range bs {
		if b.Weight > 0 {
			up++
		}
	}
	return up
}

func printServices(w io.Writer, svcs []daemon.ServiceView) error {
	t := newTable(w, "NAME", "VIP", "MODE", "SCHEDULER", "BACKENDS", "ACTIVE", "LUT", "FLOWS", "STATE")
	for _, s := range svcs {
		t.row(s.Name, s.Key, s.Mode, s.Scheduler, len(s.Backends), upCount(s.Backends), s.LUTSize, s.ActiveFlows, serviceState(s))
	}
	return t.flush()
}

func printService(w io.Writer, s daemon.ServiceView) error {
	t := newTable(w)
	t.row("service", s.Name)
	t.row("vip", s.Key)
	t.row("mode", s.Mode)
	t.row("scheduler", fmt.Sprintf("%s, %d table slots", s.Scheduler, s.LUTSize))
	t.row("when all down", s.Policy)
	t.row("state", serviceState(s))
	t.row("traffic", fmt.Sprintf("%d packets, %s, %d new flows, %d active flows", s.Packets, bytesIEC(s.Bytes), s.NewFlows, s.ActiveFlows))
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return printBackends(w, s.Backends, false)
}
