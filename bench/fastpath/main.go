// Command fastpath measures the dataplane's per-packet path in-process: tenbin_mbuf_burst
// (the lcore loop's adapter around tenbin_process) over a pre-built array of mbufs, no PMD,
// no EAL, one core. It reports the median Mpps and ns/packet of several trials for L2DSR
// and L3DSR flow hits and L2DSR new flows, with 1k and 1M distinct flows by default.
//
//	go run ./bench/fastpath [-trials 5] [-packets 8000000] [-flows 1k,100k,1M] [-cases l2dsr-hit]
package main

/*
#cgo CFLAGS: -O3 -march=native -Wall -Wextra -Werror -I${SRCDIR}/../../dataplane -I${SRCDIR}/../../dataplane/include
#cgo pkg-config: libdpdk
#include <stdlib.h>
#include "burst.h"
*/
import "C"

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"tenbin/control/shm"
	_ "tenbin/dataplane" // links the fast path's C code this program drives
)

var (
	vipL2 = netip.MustParseAddr("198.18.1.10")
	vipL3 = netip.MustParseAddr("198.18.1.11")
)

type benchCase struct {
	name      string
	vip       netip.Addr
	restore   bool   // undo the rewrite before each burst (l3dsr changes the destination)
	advanceMs uint64 // clock step per pass; past every timeout makes every packet a new flow
}

func main() {
	trials := flag.Int("trials", 5, "trials per case (the median is reported)")
	packets := flag.Int("packets", 8_000_000, "packets per trial")
	flowList := flag.String("flows", "1k,1M", "distinct flows per run, comma-separated (k and M suffixes)")
	caseList := flag.String("cases", "", "run only these cases, comma-separated (default: all)")
	flag.Parse()
	flows, err := parseCounts(*flowList)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fastpath: -flows:", err)
		os.Exit(2)
	}
	if err := run(*trials, *packets, flows, *caseList); err != nil {
		fmt.Fprintln(os.Stderr, "fastpath:", err)
		os.Exit(1)
	}
}

func run(trials, packets int, flowCounts []uint32, only string) error {
	cases := []benchCase{
		{"l2dsr-hit", vipL2, false, 0},
		{"l3dsr-hit", vipL3, true, 0},
		{"l2dsr-new", vipL2, false, 1_000_000},
	}
	if only != "" {
		want := strings.Split(only, ",")
		cases = slices.DeleteFunc(cases, func(c benchCase) bool { return !slices.Contains(want, c.name) })
		if len(cases) == 0 {
			return fmt.Errorf("no case named in %q", only)
		}
	}
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Printf("load average (1, 5, 15 min): %s\n", strings.Join(strings.Fields(string(load))[:3], " "))
	}
	// wall: what a core of its own would see when nothing else runs; cpu: per second this
	// thread was on a CPU (other jobs' time slices excluded, their cache pollution not);
	// on-cpu: the share of wall time the benchmark held its core.
	fmt.Printf("%-10s %8s %8s %8s %8s %8s | %8s %8s %7s\n", "case", "flows", "Mpps", "ns/pkt",
		"min", "max", "cpu Mpps", "cpu ns", "on-cpu")
	for _, flows := range flowCounts {
		region, cleanup, err := newRegion(flows)
		if err != nil {
			return err
		}
		for _, c := range cases {
			if err := runCase(region, c, flows, trials, packets); err != nil {
				cleanup()
				return err
			}
		}
		cleanup()
	}
	return nil
}

// parseCounts reads "1k,100k,1M" (k = 1024, M = 1024*1024).
func parseCounts(list string) ([]uint32, error) {
	var out []uint32
	for _, f := range strings.Split(list, ",") {
		mult := uint64(1)
		switch {
		case strings.HasSuffix(f, "k"):
			mult, f = 1<<10, strings.TrimSuffix(f, "k")
		case strings.HasSuffix(f, "M"):
			mult, f = 1<<20, strings.TrimSuffix(f, "M")
		}
		n, err := strconv.ParseUint(f, 10, 32)
		if err != nil || n == 0 || n*mult > 1<<28 {
			return nil, fmt.Errorf("%q: want a count between 1 and 256M", f)
		}
		out = append(out, uint32(n*mult))
	}
	return out, nil
}

// newRegion makes a one-lcore region with room for twice the flows and publishes two
// services of 16 backends each.
func newRegion(flows uint32) (*shm.Region, func(), error) {
	dir, err := os.MkdirTemp("/dev/shm", "tenbin-bench-")
	if err != nil {
		dir, err = os.MkdirTemp("", "tenbin-bench-")
		if err != nil {
			return nil, nil, err
		}
	}
	entries := uint32(4096)
	for entries < 2*flows {
		entries *= 2
	}
	r, err := shm.OpenOrCreate(filepath.Join(dir, "region"), shm.Params{Lcores: 1, LUTCapacity: 2 * 65537, FlowEntries: entries})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	cleanup := func() { r.Close(); os.RemoveAll(dir) }
	copy(r.PortInfo(0).MAC[:], net.HardwareAddr{2, 0, 0, 0, 0, 1})
	var bes []shm.BackendSpec
	for i := range 16 {
		bes = append(bes, shm.BackendSpec{Addr: netip.AddrFrom4([4]byte{198, 18, 2, byte(10 + i)}),
			MAC: net.HardwareAddr{2, 0, 0, 0, 2, byte(10 + i)}, Weight: 1, Present: true})
	}
	table := make([]int32, 65537)
	for i := range table {
		table[i] = int32(i % len(bes))
	}
	svc := func(name string, vip netip.Addr, mode shm.Mode) shm.ServiceSpec {
		return shm.ServiceSpec{Name: name, VIP: vip, Proto: 6, Port: 80, Mode: mode, DSCP: 0x22,
			HashFields: shm.HashAll, Backends: bes, LUT: table}
	}
	d := &shm.Desired{
		Ports:    []shm.PortSpec{{IPv4: netip.MustParsePrefix("198.18.0.1/24")}},
		Services: []shm.ServiceSpec{svc("l2", vipL2, shm.ModeL2DSR), svc("l3", vipL3, shm.ModeL3DSR)},
	}
	if _, err := shm.NewWriter(r).Publish(context.Background(), d); err != nil {
		cleanup()
		return nil, nil, err
	}
	return r, cleanup, nil
}

// template is a 64-byte TCP ACK from a client to vip:80.
func template(vip netip.Addr) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP,
		SrcIP: net.IP{10, 0, 0, 0}, DstIP: vip.AsSlice()}
	tcp := &layers.TCP{SrcPort: 1024, DstPort: 80, ACK: true, Seq: 1, Ack: 1, Window: 65535}
	_ = tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	_ = gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 0xaa}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1},
			EthernetType: layers.EthernetTypeIPv4}, ip, tcp, gopacket.Payload(make([]byte, 10)))
	return buf.Bytes()
}

func runCase(region *shm.Region, c benchCase, flows uint32, trials, packets int) error {
	tmpl := template(c.vip)
	pk := C.tb_pkts_new((*C.uint8_t)(unsafe.Pointer(&tmpl[0])), C.uint16_t(len(tmpl)), C.uint32_t(flows), C.uint32_t(flows))
	if pk == nil {
		return fmt.Errorf("%s: cannot build %d packets", c.name, flows)
	}
	defer C.tb_pkts_free(pk)
	w := C.tb_worker(region.Base(), 0)
	if w == nil {
		return fmt.Errorf("%s: cannot bind a worker to the region", c.name)
	}
	defer C.free(unsafe.Pointer(w))

	restore := C.int(0)
	if c.restore {
		restore = 1
	}
	now := shm.NowMs() + 1_000_000_000 // past anything a previous case left in the table
	var res C.struct_tb_result
	C.tb_run(w, pk, 1, restore, C.uint64_t(now), C.uint64_t(c.advanceMs), &res) // warm-up: flows inserted
	passes := max(1, packets/int(flows))
	var mpps, cpuMpps, onCPU []float64
	for range trials {
		now += uint64(c.advanceMs) + 1
		C.tb_run(w, pk, C.uint32_t(passes), restore, C.uint64_t(now), C.uint64_t(c.advanceMs), &res)
		now += uint64(passes) * c.advanceMs
		if res.dropped != 0 || res.sent != res.packets {
			return fmt.Errorf("%s: %d of %d packets dropped", c.name, res.dropped, res.packets)
		}
		mpps = append(mpps, float64(res.packets)/float64(res.seconds)/1e6)
		cpuMpps = append(cpuMpps, float64(res.packets)/float64(res.cpu_seconds)/1e6)
		onCPU = append(onCPU, float64(res.cpu_seconds)/float64(res.seconds))
	}
	med, cpuMed := median(mpps), median(cpuMpps)
	fmt.Printf("%-10s %8d %8.2f %8.1f %8.2f %8.2f | %8.2f %8.1f %6.0f%%\n", c.name, flows, med, 1e3/med,
		slices.Min(mpps), slices.Max(mpps), cpuMed, 1e3/cpuMed, 100*median(onCPU))
	return nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
