// Command tenbin-dataplane is the DPDK poll-mode dataplane: it maps the shared region, starts
// one C poll loop per lcore over the given ports and runs until SIGINT/SIGTERM. main only
// maps flags onto dataplane/run; bad input prints one line and exits 2.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"tenbin/dataplane/run"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// kernelPortFlag is --kernel-port (every data port gets a tap, tb-0, tb-1, ...) or
// --kernel-port=NAME,NAME,... (data port i's tap interface; an empty name: none).
type kernelPortFlag struct{ cfg *run.Config }

func (k kernelPortFlag) IsBoolFlag() bool { return true }
func (k kernelPortFlag) String() string {
	if k.cfg == nil || k.cfg.KernelPortAll {
		return ""
	}
	return strings.Join(k.cfg.KernelPorts, ",")
}
func (k kernelPortFlag) Set(v string) error {
	k.cfg.KernelPortAll, k.cfg.KernelPorts = false, nil
	switch v {
	case "true":
		k.cfg.KernelPortAll = true
	case "false":
	default:
		k.cfg.KernelPorts = strings.Split(v, ",")
	}
	return nil
}

func main() {
	cfg := run.DefaultConfig()
	fs := flag.NewFlagSet("tenbin-dataplane", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // one line on bad flags, the full list only for --help
	var ports, eal listFlag
	fs.Var(&ports, "port", "a port as DPDK devargs, e.g. net_af_packet0,iface=p0 (repeatable; ports are numbered in order)")
	fs.Var(&ports, "vdev", "alias of --port")
	fs.Var(&eal, "eal", "an extra EAL argument (repeatable)")
	fs.StringVar(&cfg.Lcores, "lcores", cfg.Lcores, "DPDK lcore list; the first is the main lcore, every lcore runs a poll loop")
	fs.StringVar(&cfg.SHMPath, "shm", cfg.SHMPath, "shared region path")
	fs.UintVar(&cfg.Region.Lcores, "lcore-slots", cfg.Region.Lcores, "lcore slots when creating the region")
	fs.UintVar(&cfg.Region.FlowEntries, "flow-entries", cfg.Region.FlowEntries, "flow entries per lcore when creating the region (power of two)")
	fs.UintVar(&cfg.Region.LUTCapacity, "lut-capacity", cfg.Region.LUTCapacity, "lookup-table entries per config set when creating the region")
	fs.IntVar(&cfg.MemoryMB, "mem", cfg.MemoryMB, "MiB of memory for the EAL")
	fs.BoolVar(&cfg.Huge, "huge", cfg.Huge, "use hugepages (default: plain memory, --no-huge)")
	fs.StringVar(&cfg.LogLevel, "log-level", "", "EAL log level, e.g. debug or lib.eal:info (default: errors only)")
	fs.IntVar(&cfg.MbufCount, "mbufs", cfg.MbufCount, "mbufs in the packet pool")
	fs.BoolVar(&cfg.CheckOnly, "check", false, "validate arguments, probe the ports and exit")
	fs.BoolVar(&cfg.Passthrough, "passthrough", false, "forward every packet unchanged to the paired port (0↔1, 2↔3): the skeleton and benchmark baseline")
	fs.Var(kernelPortFlag{&cfg}, "kernel-port", "give each data port a kernel tap (net_tap) with the port's MAC: what is no VIP's (no_vip, ARP/NDP the\n"+
		"dataplane does not answer, non-IP) goes to the host stack there instead of being dropped, and what the host sends\n"+
		"on the tap leaves by the port unchanged; bare: taps tb-0, tb-1, ...; =NAME,NAME,...: port i's tap interface (empty: none)")
	verbose := fs.Bool("v", false, "log at debug level")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stdout)
			fs.PrintDefaults()
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "tenbin-dataplane: %v (see --help)\n", err)
		os.Exit(2)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "tenbin-dataplane: unexpected argument %q\n", fs.Arg(0))
		os.Exit(2)
	}
	cfg.Ports, cfg.ExtraEAL = ports, eal
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run.Run(ctx, cfg, log); err != nil {
		fmt.Fprintln(os.Stderr, "tenbin-dataplane:", err)
		if errors.Is(err, run.ErrUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}
