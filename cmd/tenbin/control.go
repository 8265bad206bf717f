package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"tenbin/control/api"
	"tenbin/control/config"
	"tenbin/control/daemon"
	"tenbin/control/metrics"
)

func init() { rootCmd.AddCommand(newControlCmd()) }

func newControlCmd() *cobra.Command {
	var configPath, shmPath, logLevel string
	cmd := &cobra.Command{
		Use:   "control --config FILE",
		Short: "Run the control daemon: publish the configuration to the dataplane and serve the API",
		Long: `Run the control daemon. It attaches to the shared region (creating it when no
dataplane has yet), publishes the configuration's tables, runs the health checks and
serves the API on --socket (or api.socket of the file). SIGHUP reloads the file; an
invalid file is refused and the running configuration stays. Stopping the daemon leaves
the tables in place: the dataplane keeps forwarding.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return newUsageError("--log-level %q: want debug, info, warn or error", logLevel)
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			data, err := os.ReadFile(configPath)
			if err != nil {
				return newUsageError("%v", err)
			}
			cfg, err := config.Parse(configPath, data)
			if err != nil {
				return usageError{err}
			}
			socket := cfg.API.Socket
			if cmd.Flags().Changed("socket") {
				socket = global.socket
			}
			return runControl(cmd.Context(), log, controlSetup{cfg: cfg, text: data, path: configPath, shm: shmPath, socket: socket})
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "configuration file (YAML)")
	cmd.Flags().StringVar(&shmPath, "shm", "", "shared region path (default: dataplane.shm of the file, else /dev/hugepages/tenbin or /dev/shm/tenbin)")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	cmd.MarkFlagRequired("config")
	cmd.MarkFlagFilename("config", "yaml", "yml")
	return cmd
}

type controlSetup struct {
	cfg       *config.Config
	text      []byte
	path, shm string
	socket    string
}

func runControl(ctx context.Context, log *slog.Logger, s controlSetup) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// The socket first: if another daemon answers there, this one must not publish.
	l, err := api.Listen(s.socket)
	if err != nil {
		return err
	}
	m := metrics.New()
	e, err := daemon.New(daemon.Options{
		Config: s.cfg, ConfigText: s.text, ConfigPath: s.path, RegionPath: s.shm,
		Logger: log, ObservePublish: m.ObservePublish,
	})
	if err != nil {
		l.Close()
		return err
	}
	defer e.Close()
	m.Attach(e)
	srv := api.NewServer(e, log)
	go func() {
		if err := srv.Serve(l); err != nil {
			log.Error("api server stopped", "err", err)
		}
	}()
	log.Info("control daemon running", "socket", s.socket, "config", s.path, "generation", e.Generation())
	if s.cfg.Metrics.Listen != "" {
		go func() {
			if err := m.Serve(ctx, s.cfg.Metrics.Listen, log); err != nil {
				log.Error("metrics endpoint stopped", "err", err)
			}
		}()
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			res, err := e.Reload()
			if err != nil {
				log.Error("reload refused; the running configuration stays", "err", err)
				continue
			}
			log.Info("reloaded", "generation", res.Generation, "changes", len(res.Changes))
			for _, w := range res.Warnings {
				log.Warn(w)
			}
		}
	}()

	runErr := e.Run(ctx)
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	log.Info("control daemon stopped; the dataplane keeps the last published tables")
	if runErr != nil && !errors.Is(runErr, daemon.ErrClosed) {
		return fmt.Errorf("control: %w", runErr)
	}
	return nil
}
