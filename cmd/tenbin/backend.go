package main

import (
	"fmt"
	"io"
	"net/netip"
	"strconv"

	"github.com/spf13/cobra"

	"tenbin/control/api"
	"tenbin/control/daemon"
)

func init() {
	be := &cobra.Command{Use: "backend", Short: "List backends and change them at runtime (drain, weight, enable, disable)"}
	var service string
	list := &cobra.Command{
		Use:   "list [--service NAME]",
		Short: "List backends with health, weights and counters",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(); err != nil {
				return err
			}
			bs, err := daemonClient().Backends(cmd.Context(), service)
			if err != nil {
				return daemonError(err)
			}
			if jsonOutput() {
				return writeJSON(cmd.OutOrStdout(), bs)
			}
			return printBackends(cmd.OutOrStdout(), bs, true)
		},
	}
	list.Flags().StringVar(&service, "service", "", "only this service's backends")
	list.RegisterFlagCompletionFunc("service", completeServices)
	be.AddCommand(list)

	for _, a := range []struct{ name, short, done string }{
		{"drain", "Stop new flows to a backend; established flows stay", "drained"},
		{"undrain", "Let a drained backend take new flows again", "undrained"},
		{"enable", "Put a disabled backend back (it still has to pass its checks)", "enabled"},
		{"disable", "Take a backend out now: its flows go to other backends", "disabled"},
	} {
		be.AddCommand(&cobra.Command{
			Use:               a.name + " SERVICE BACKEND",
			Short:             a.short,
			Args:              cobra.ExactArgs(2),
			ValidArgsFunction: completeBackends,
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := checkOutput(); err != nil {
					return err
				}
				res, err := daemonClient().BackendAction(cmd.Context(), args[0], args[1], a.name)
				return printAction(cmd.OutOrStdout(), args, a.done, res, err)
			},
		})
	}
	be.AddCommand(&cobra.Command{
		Use:               "weight SERVICE BACKEND WEIGHT",
		Short:             "Set a backend's weight (0..65535) until the daemon restarts",
		Args:              cobra.ExactArgs(3),
		ValidArgsFunction: completeBackends,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(); err != nil {
				return err
			}
			w, err := strconv.ParseUint(args[2], 10, 16)
			if err != nil {
				return newUsageError("weight %q: want an integer in 0..65535", args[2])
			}
			res, err := daemonClient().SetWeight(cmd.Context(), args[0], args[1], int(w))
			return printAction(cmd.OutOrStdout(), args, "weight set to "+args[2], res, err)
		},
	})
	rootCmd.AddCommand(be)
}

// completeBackends completes SERVICE, then BACKEND of that service.
func completeBackends(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	switch len(args) {
	case 0:
		return completeServices(cmd, nil, "")
	case 1:
		bs, err := daemonClient().Backends(cmd.Context(), args[0])
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		names := make([]string, len(bs))
		for i, b := range bs {
			names[i] = b.Name
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}

func printAction(w io.Writer, args []string, done string, res api.ActionResult, err error) error {
	if err != nil {
		return daemonError(err)
	}
	if jsonOutput() {
		return writeJSON(w, res)
	}
	b := res.Backend
	_, err = fmt.Fprintf(w, "%s/%s %s (generation %d): health %s, weight %d, %s\n",
		args[0], args[1], done, res.Generation, b.Health, b.Effective, backendState(b))
	return err
}

// backendState says what the dataplane does with a backend, in one word or two. A
// backend that takes no new flows but is still present (drained by the operator, its
// agent asking for drain, weight 0) keeps its flows until they end, and shows "idle" once
// it has none: then it can be stopped without cutting a connection.
func backendState(b daemon.BackendView) string {
	switch {
	case b.Fallback && b.Weight > 0:
		return "fallback"
	case b.Disabled:
		return "disabled"
	case b.Drained && b.ActiveFlows > 0:
		return "drained, flows left"
	case b.Drained:
		return "drained, idle"
	case b.Weight > 0:
		return "active"
	case b.Present && b.ActiveFlows > 0:
		return "draining"
	case b.Present:
		return "idle"
	}
	return "out"
}

func hostPort(a netip.Addr, port uint16) string {
	if port == 0 {
		return a.String() + ":*"
	}
	return netip.AddrPortFrom(a, port).String()
}

func printBackends(w io.Writer, bs []daemon.BackendView, withService bool) error {
	header := []string{"NAME", "ADDRESS", "NEXT HOP", "HEALTH", "STATE", "WEIGHT", "CONFIGURED", "ACTIVE", "PACKETS", "BYTES", "DETAIL"}
	if withService {
		header = append([]string{"SERVICE"}, header...)
	}
	t := newTable(w, header...)
	for _, b := range bs {
		cells := []any{b.Name, hostPort(b.Address, b.Port), b.NextHop, b.Health, backendState(b), b.Effective,
			b.Configured, b.ActiveFlows, b.Packets, bytesIEC(b.Bytes), orDash(b.Detail)}
		if withService {
			cells = append([]any{b.Service}, cells...)
		}
		t.row(cells...)
	}
	return t.flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
