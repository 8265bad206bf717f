// Package run owns the dataplane process's lifecycle: EAL, ports, the shared region and the
// C poll loops, from start to a clean stop. The per-packet work is C in package dataplane;
// nothing here runs per packet.
package run

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"tenbin/cgo/dpdk"
	"tenbin/control/shm"
)

// ErrUsage marks errors in the caller's input (flags, devargs, files); the command exits 2.
var ErrUsage = errors.New("usage")

// usageErr formats an input error that wraps ErrUsage without printing the word "usage".
type usageErr struct{ msg string }

func (e usageErr) Error() string   { return e.msg }
func (e usageErr) Is(t error) bool { return t == ErrUsage }

func usagef(format string, a ...any) error { return usageErr{fmt.Sprintf(format, a...)} }

// RegionParams are the region sizes as flags give them.
type RegionParams struct {
	Lcores, LUTCapacity, FlowEntries uint
}

// Config is everything the dataplane process needs.
type Config struct {
	Ports       []string // devargs, one per port, in port order
	Lcores      string   // DPDK lcore list; each lcore polls one rx queue of every port
	SHMPath     string
	Region      RegionParams
	MemoryMB    int
	Huge        bool
	LogLevel    string
	ExtraEAL    []string
	MbufCount   int
	RxDesc      uint16
	TxDesc      uint16
	CheckOnly   bool
	Passthrough bool
	// KernelPortAll gives every data port a kernel tap named DefaultKernelPortName(i);
	// otherwise KernelPorts names data port i's tap interface ("" or absent: none).
	KernelPortAll bool
	KernelPorts   []string
}

// DefaultConfig is the dataplane's defaults: one lcore, plain memory, the default region.
func DefaultConfig() Config {
	p := shm.DefaultParams()
	return Config{
		Lcores:    "0",
		SHMPath:   shm.DefaultPath(),
		Region:    RegionParams{Lcores: uint(p.Lcores), LUTCapacity: uint(p.LUTCapacity), FlowEntries: uint(p.FlowEntries)},
		MemoryMB:  512,
		MbufCount: 8191,
		RxDesc:    1024,
		TxDesc:    1024,
	}
}

var lcoreListRe = regexp.MustCompile(`^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$`)

// portName is the ethdev name of a devargs string: the part before the first comma.
func portName(devargs string) string {
	name, _, _ := strings.Cut(devargs, ",")
	return name
}

// poolLayout is how the mbuf pool for ports lies: end to end where that is safe, which
// spares every burst the one-L1-set conflict of one mbuf per 4 KiB page (dpdk.Mempool.Packed),
// unless an AF_XDP port may use the pool as its zero-copy UMEM.
func poolLayout(ports []string) dpdk.PoolLayout {
	for _, p := range ports {
		if strings.TrimRight(portName(p), "0123456789") == "net_af_xdp" {
			return dpdk.PageBound
		}
	}
	return dpdk.PackedWhereSafe
}

// knownDrivers are the vdev drivers the Debian DPDK build ships that make sense as ports.
var knownDrivers = []string{"net_af_packet", "net_af_xdp", "net_pcap", "net_ring", "net_null", "net_tap",
	"net_vhost", "net_virtio_user", "net_memif", "net_bonding"}

// validate checks what can be checked before the EAL starts, so bad input fails with one
// line instead of a page of EAL logs.
func (c *Config) validate() error {
	if len(c.Ports) == 0 {
		return usagef("no ports: give at least one --port DEVARGS (e.g. --port net_af_packet0,iface=p0)")
	}
	if len(c.Ports) > shm.MaxPorts {
		return usagef("%d ports given, at most %d", len(c.Ports), shm.MaxPorts)
	}
	seen := map[string]bool{}
	for _, p := range c.Ports {
		name := portName(p)
		if seen[name] {
			return usagef("port %s given twice", name)
		}
		seen[name] = true
		driver := strings.TrimRight(name, "0123456789")
		if !contains(knownDrivers, driver) || driver == name {
			return usagef("unknown port %q: want a vdev name like net_af_packet0 or net_null0 (drivers: %s)", name, strings.Join(knownDrivers, ", "))
		}
		for _, kv := range strings.Split(p, ",")[1:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return usagef("port %s: malformed devarg %q, want key=value", name, kv)
			}
			if k == "rx_pcap" { // a missing capture file is the most common typo
				if _, err := os.Stat(v); err != nil {
					return usagef("port %s: rx_pcap %s: %v", name, v, errors.Unwrap(err))
				}
			}
		}
	}
	if !lcoreListRe.MatchString(c.Lcores) {
		return usagef("--lcores %q: want a DPDK lcore list like 0 or 0,1 or 0-3", c.Lcores)
	}
	if c.Region.Lcores < 1 || c.Region.Lcores > shm.MaxLcores {
		return usagef("--lcore-slots %d not in 1..%d", c.Region.Lcores, shm.MaxLcores)
	}
	if _, err := shm.Layout(c.regionParams()); err != nil {
		return usagef("%v", err)
	}
	if c.MemoryMB < 64 {
		return usagef("--mem %d: need at least 64 MiB", c.MemoryMB)
	}
	if c.Passthrough && len(c.Ports)%2 == 1 && len(c.Ports) > 1 {
		return usagef("--passthrough pairs ports 0↔1, 2↔3: give an even number of ports (or one, which echoes)")
	}
	return c.validateKernelPorts()
}

func (c *Config) regionParams() shm.Params {
	return shm.Params{Lcores: uint32(c.Region.Lcores), LUTCapacity: uint32(c.Region.LUTCapacity), FlowEntries: uint32(c.Region.FlowEntries)}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
