package run

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"

	"tenbin/cgo/dpdk"
	"tenbin/dataplane"
)

// The kernel exception path (--kernel-port): one net_tap port per data port, whose kernel
// interface carries the data port's MAC, so the host stack on it owns the port's L2
// identity. What is no VIP's goes up the tap (dataplane/kernel.h); what the host writes
// into the tap leaves by the data port unchanged (dataplane/tap.h).

// tapDesc is the descriptor count of a tap's queues: the tap PMD takes one mbuf from the
// pool per rx descriptor up front, and the exception path carries the host's traffic, not
// the balanced load.
const tapDesc = 128

// maxIfName is the longest kernel interface name (IFNAMSIZ - 1).
const maxIfName = 15

// DefaultKernelPortName is data port i's tap interface when --kernel-port names none.
func DefaultKernelPortName(i int) string { return fmt.Sprintf("tb-%d", i) }

// kernelPortNames is the tap interface of each data port, "" for a port without one.
func (c *Config) kernelPortNames() []string {
	if c.KernelPortAll {
		names := make([]string, len(c.Ports))
		for i := range names {
			names[i] = DefaultKernelPortName(i)
		}
		return names
	}
	return c.KernelPorts
}

// validateKernelPorts checks the tap interface names (the kernel refuses the rest with an
// errno that names nothing).
func (c *Config) validateKernelPorts() error {
	names := c.kernelPortNames()
	if len(names) > len(c.Ports) {
		return usagef("--kernel-port names %d interfaces for %d ports", len(names), len(c.Ports))
	}
	seen := map[string]bool{}
	for i, n := range names {
		switch {
		case n == "":
			continue
		case len(n) > maxIfName:
			return usagef("--kernel-port: interface name %q of port %d is longer than %d bytes", n, i, maxIfName)
		case n == "." || n == ".." || strings.ContainsAny(n, "/:=, \t\n"):
			return usagef("--kernel-port: %q is no interface name", n)
		case seen[n]:
			return usagef("--kernel-port: interface %s given twice", n)
		case c.Passthrough:
			return usagef("--kernel-port has nothing to pass with --passthrough (every frame goes to the paired port)")
		}
		seen[n] = true
	}
	return nil
}

// kernelTap is one data port's tap.
type kernelTap struct {
	port       // the tap's ethdev
	data  port // the data port it belongs to
	iface string
}

// tapVdev is the vdev name of data port i's tap; the net_tap driver takes every name that
// starts with its own, and no data port can be called this (validate knows no such driver).
func tapVdev(i int) string { return fmt.Sprintf("net_tap_kernel%d", i) }

// startKernelTaps creates and starts the taps of the data ports that have one, each with
// one rx and one tx queue per lcore. On error, the taps already created are removed.
func startKernelTaps(cfg Config, ports []port, lcores uint16, pool *dpdk.Mempool, log *slog.Logger) ([]kernelTap, error) {
	// The tap PMD complains at start about what only its rte_flow support needs (the
	// multiq qdisc) and about secondary processes we never run: held back unless -v, and
	// quoted when a tap fails.
	var pmdLog bytes.Buffer
	if !log.Enabled(context.Background(), slog.LevelDebug) {
		dpdk.SetLogWriter(&pmdLog)
		defer dpdk.SetLogWriter(os.Stderr)
	}
	var taps []kernelTap
	for i, iface := range cfg.kernelPortNames() {
		if iface == "" {
			continue
		}
		t, err := startKernelTap(i, iface, ports[i], lcores, pool)
		if err != nil {
			stopKernelTaps(taps)
			if last := lastLine(pmdLog.String()); last != "" {
				err = fmt.Errorf("%w (%s)", err, last)
			}
			return nil, err
		}
		taps = append(taps, t)
		log.Info("kernel port up", "port", ports[i].name, "iface", iface, "queues", t.queues)
	}
	return taps, nil
}

func startKernelTap(i int, iface string, data port, lcores uint16, pool *dpdk.Mempool) (kernelTap, error) {
	// A non-persistent multi-queue tap of that name would take us as more queues of its
	// owner's device (another dataplane's kernel port) instead of failing.
	if _, err := net.InterfaceByName(iface); err == nil {
		return kernelTap{}, usagef("kernel port of %s: interface %s exists already (another dataplane's?)", data.name, iface)
	}
	mac, err := data.id.MACAddr()
	if err != nil {
		return kernelTap{}, fmt.Errorf("kernel port of %s: %w", data.name, err)
	}
	name := tapVdev(i)
	args := fmt.Sprintf("iface=%s,mac=%s", iface, mac)
	if err := dpdk.VdevInit(name, args); err != nil {
		return kernelTap{}, fmt.Errorf("kernel port of %s (%s,%s): %w", data.name, name, args, err)
	}
	t := kernelTap{port: port{name: name, devargs: args, kernel: true}, data: data, iface: iface}
	if t.id, err = dpdk.PortByName(name); err != nil {
		dpdk.VdevUninit(name)
		return kernelTap{}, fmt.Errorf("kernel port of %s: %w", data.name, err)
	}
	err = setupPort(&t.port, lcores, tapDesc, tapDesc, pool)
	if err == nil && t.queues < lcores {
		err = fmt.Errorf("port %s: %d queues for %d lcores", name, t.queues, lcores)
	}
	if err != nil {
		t.stop()
		return kernelTap{}, fmt.Errorf("kernel port of %s: %w", data.name, err)
	}
	return t, nil
}

// stop removes the tap, and with it the kernel interface. Only after the lcores returned.
func (t kernelTap) stop() {
	t.id.Stop()
	dpdk.VdevUninit(t.name)
}

func stopKernelTaps(taps []kernelTap) {
	for _, t := range taps {
		t.stop()
	}
}

// kernelTapsConf is what every lcore loop is told about the taps.
func kernelTapsConf(taps []kernelTap, lcores uint16) dataplane.KernelTaps {
	kt := dataplane.KernelTaps{Tap: map[uint16]uint16{}, Queues: lcores}
	for _, t := range taps {
		kt.Tap[uint16(t.data.id)] = uint16(t.id)
	}
	return kt
}

func lastLine(text string) string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
