package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"tenbin/proxy"
)

func init() { rootCmd.AddCommand(newProxyCmd()) }

func newProxyCmd() *cobra.Command {
	var configPath, metricsAddr string
	var check bool
	cmd := &cobra.Command{
		Use:   "proxy --config FILE",
		Short: "Run the L7 / TLS proxy tier from the proxy: section of a tenbin config",
		Long: "Runs the tcp+tls, http and https listeners of the config's proxy: section.\n" +
			"SIGHUP reloads certificates; SIGINT/SIGTERM drain in-flight requests and exit.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configPath == "" {
				return newUsageError("proxy: --config is required")
			}
			cfg, err := proxy.LoadFile(configPath)
			if err != nil {
				if errors.Is(err, proxy.ErrInvalidConfig) {
					return usageError{err}
				}
				return err
			}
			if check {
				fmt.Fprintln(cmd.OutOrStdout(), "proxy config ok")
				return nil
			}
			if metricsAddr == "" {
				metricsAddr = cfg.MetricsAddress
			}
			return runProxy(cmd.Context(), cfg, metricsAddr)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "tenbin YAML file; only its proxy: key is read")
	cmd.Flags().StringVar(&metricsAddr, "metrics", "", "serve Prometheus metrics on this address (overrides metrics_address)")
	cmd.Flags().BoolVar(&check, "check", false, "validate the config and exit")
	return cmd
}

func runProxy(ctx context.Context, cfg *proxy.Config, metricsAddr string) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	access, closer, err := proxy.NewAccessLogger(cfg.AccessLog, os.Stdout, os.Stderr)
	if err != nil {
		return err
	}
	if closer != nil {
		defer closer.Close()
	}
	srv, err := proxy.New(cfg, proxy.Options{Logger: log, AccessLog: access})
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	var metrics *http.Server
	if metricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("/metrics", srv.MetricsHandler())
		metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		ml, err := net.Listen("tcp", metricsAddr)
		if err != nil {
			_ = srv.Shutdown(context.Background())
			return fmt.Errorf("metrics: %w", err)
		}
		go func() { _ = metrics.Serve(ml) }()
	}
	log.Info("proxy started", "listeners", len(cfg.Listeners), "metrics", metricsAddr)

	if ctx == nil {
		ctx = context.Background()
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	for {
		select {
		case <-ctx.Done():
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				if err := srv.ReloadCertificates(); err != nil {
					log.Error("certificate reload", "err", err)
				} else {
					log.Info("certificates reloaded")
				}
				continue
			}
			log.Info("draining", "signal", sig.String(), "grace", cfg.ShutdownGrace)
		}
		break
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	err = srv.Shutdown(sctx)
	if metrics != nil {
		_ = metrics.Shutdown(sctx)
	}
	return err
}
