package main

import (
	"tenbin/configs"
	"tenbin/proxy"

	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"tenbin/control/config"
)

func init() {
	cfg := &cobra.Command{Use: "config", Short: "Validate, compare and apply configuration files"}
	cfg.AddCommand(&cobra.Command{
		Use:   "validate FILE",
		Short: "Check a configuration file (offline: no daemon needed); exit 2 if it is invalid",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(); err != nil {
				return err
			}
			c, err := config.Load(args[0])
			if err == nil && c.Proxy != nil {
				// The proxy tier's section is checked by its own parser, positions and all.
				if _, perr := proxy.Parse(c.Proxy, args[0]); perr != nil {
					return newUsageError("%v", perr)
				}
			}
			return printValidation(cmd.OutOrStdout(), args[0], c, err)
		},
	})
	cfg.AddCommand(&cobra.Command{
		Use:   "diff FILE",
		Short: "Show what applying FILE would change in the running configuration",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(); err != nil {
				return err
			}
			data, err := readConfigFile(args[0])
			if err != nil {
				return err
			}
			d, err := daemonClient().Diff(cmd.Context(), args[0], data)
			if err != nil {
				return daemonError(err)
			}
			if jsonOutput() {
				return writeJSON(cmd.OutOrStdout(), d)
			}
			return printChangeList(cmd.OutOrStdout(), d.Changes)
		},
	})
	cfg.AddCommand(&cobra.Command{
		Use:   "apply FILE",
		Short: "Validate FILE and make it the running configuration (nothing changes if it is invalid)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(); err != nil {
				return err
			}
			data, err := readConfigFile(args[0])
			if err != nil {
				return err
			}
			res, err := daemonClient().Apply(cmd.Context(), args[0], data)
			if err != nil {
				return daemonError(err)
			}
			for _, w := range res.Warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			if jsonOutput() {
				return writeJSON(cmd.OutOrStdout(), res)
			}
			if err := printChangeList(cmd.OutOrStdout(), res.Changes); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "applied: generation %d\n", res.Generation)
			return err
		},
	})
	cfg.AddCommand(&cobra.Command{
		Use:   "default",
		Short: "Print the embedded default configuration (the lab's, which `make demo` runs)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write(configs.Lab)
			return err
		},
	})
	rootCmd.AddCommand(cfg)
}

func readConfigFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, newUsageError("%v", err)
	}
	return data, nil
}

// validation is `config validate --output json`.
type validation struct {
	File     string   `json:"file"`
	Valid    bool     `json:"valid"`
	Services int      `json:"services,omitempty"`
	Backends int      `json:"backends,omitempty"`
	Errors   []string `json:"errors,omitempty"`
}

func printValidation(w io.Writer, file string, c *config.Config, err error) error {
	v := validation{File: file, Valid: err == nil}
	var errs config.Errors
	switch {
	case errors.As(err, &errs):
		for _, e := range errs {
			v.Errors = append(v.Errors, e.Error())
		}
	case err != nil:
		return newUsageError("%v", err) // unreadable
	default:
		v.Services = len(c.Services)
		for _, s := range c.Services {
			v.Backends += len(s.Backends)
		}
	}
	if jsonOutput() {
		if err := writeJSON(w, v); err != nil {
			return err
		}
	} else if v.Valid {
		fmt.Fprintf(w, "%s: valid (%d services, %d backends)\n", file, v.Services, v.Backends)
	}
	if !v.Valid {
		// The errors, one per line, go to stderr through main; exit 2.
		return usageError{err}
	}
	return nil
}

func printChangeList(w io.Writer, changes []string) error {
	if len(changes) == 0 {
		_, err := fmt.Fprintln(w, "no changes")
		return err
	}
	for _, c := range changes {
		if _, err := fmt.Fprintln(w, c); err != nil {
			return err
		}
	}
	return nil
}
