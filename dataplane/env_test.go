package dataplane

import (
	"context"
	"net"
	"net/netip"
	"path/filepath"
	"testing"

	"tenbin/control/shm"
)

// The lab topology every fixture runs in. Port 0 faces clients and routers, port 1 is a
// second egress; addresses come from the benchmarking ranges.
var (
	macPort0   = mustMAC("02:00:00:00:00:01")
	macPort1   = mustMAC("02:00:00:00:01:01")
	macClient  = mustMAC("02:00:00:00:00:aa")
	macRouter  = mustMAC("02:00:00:00:00:fe")
	macRouter6 = mustMAC("02:00:00:00:06:fe")
	macRS1     = mustMAC("02:00:00:00:00:21")
	macRS2     = mustMAC("02:00:00:00:00:22")
	macRS3     = mustMAC("02:00:00:00:00:23")

	client4 = netip.MustParseAddr("198.18.0.100")
	client6 = netip.MustParseAddr("2001:db8::100")
	port0v4 = netip.MustParseAddr("198.18.0.1")
	port0v6 = netip.MustParseAddr("2001:db8::1")
	router4 = netip.MustParseAddr("198.18.0.254")
	router6 = netip.MustParseAddr("2001:db8::fe")

	vipL2v4    = netip.MustParseAddr("198.18.1.10")
	vipL3v4    = netip.MustParseAddr("198.18.1.11")
	vipAnyv4   = netip.MustParseAddr("198.18.1.12")
	vipVLANv4  = netip.MustParseAddr("198.18.1.20")
	vipPoolv4  = netip.MustParseAddr("198.18.1.30")
	vipEmptyv4 = netip.MustParseAddr("198.18.1.40")
	vipNATv4   = netip.MustParseAddr("198.18.1.50")
	vipUnresv4 = netip.MustParseAddr("198.18.1.60")
	vipL2v6    = netip.MustParseAddr("2001:db8:1::10")
	vipL3v6    = netip.MustParseAddr("2001:db8:1::11")

	rs1v4   = netip.MustParseAddr("198.18.0.21")
	rs2v4   = netip.MustParseAddr("198.18.0.22")
	rs3v4   = netip.MustParseAddr("198.18.0.23")
	rsL3v4  = netip.MustParseAddr("198.18.2.21") // behind router4
	rsUnres = netip.MustParseAddr("198.18.3.21") // behind a router that never answers
	rs1v6   = netip.MustParseAddr("2001:db8::21")
	rsL3v6  = netip.MustParseAddr("2001:db8:2::21") // behind router6
)

const (
	dscpL3 = 0x22
	tNow   = uint64(10_000_000) // fixtures' clock, ms
)

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// lut spreads n backends over a table of size slots, as Maglev would with equal weights.
func lut(n, size int) []int32 {
	out := make([]int32, size)
	for i := range out {
		out[i] = int32(i % n)
	}
	return out
}

func svc(name string, vip netip.Addr, proto uint8, port uint16, mode shm.Mode, bes ...shm.BackendSpec) shm.ServiceSpec {
	s := shm.ServiceSpec{Name: name, VIP: vip, Proto: proto, Port: port, Mode: mode, DSCP: dscpL3,
		HashFields: shm.HashAll, HashSeed: 0x5eed, Flags: shm.SvcICMPEcho, Backends: bes}
	if len(bes) > 0 {
		s.LUT = lut(len(bes), 13)
	}
	return s
}

func staticBE(addr netip.Addr, mac net.HardwareAddr) shm.BackendSpec {
	return shm.BackendSpec{Addr: addr, MAC: mac, Weight: 1, Present: true}
}

func routedBE(addr, via netip.Addr) shm.BackendSpec {
	return shm.BackendSpec{Addr: addr, NextHop: via, Weight: 1, Present: true}
}

// topology is the config set most fixtures run against.
func topology() *shm.Desired {
	vlanBE := staticBE(rs2v4, macRS2)
	vlanBE.EgressPort, vlanBE.VLAN = 1, 300
	empty := svc("empty4", vipEmptyv4, 6, 80, shm.ModeL2DSR)
	empty.Flags = 0 // does not answer ping
	return &shm.Desired{
		Ports: []shm.PortSpec{
			{IPv4: netip.MustParsePrefix("198.18.0.1/24"), IPv6: netip.MustParsePrefix("2001:db8::1/64")},
			{IPv4: netip.MustParsePrefix("198.19.0.1/24")},
		},
		Services: []shm.ServiceSpec{
			svc("web4-l2", vipL2v4, 6, 80, shm.ModeL2DSR, staticBE(rs1v4, macRS1)),
			svc("dns4-l2", vipL2v4, 17, 53, shm.ModeL2DSR, staticBE(rs1v4, macRS1)),
			svc("web4-l3", vipL3v4, 6, 80, shm.ModeL3DSR, routedBE(rsL3v4, router4)),
			svc("dns4-l3", vipL3v4, 17, 53, shm.ModeL3DSR, routedBE(rsL3v4, router4)),
			svc("any4-l2", vipAnyv4, 17, 0, shm.ModeL2DSR, staticBE(rs1v4, macRS1)),
			svc("web4-vlan", vipVLANv4, 6, 80, shm.ModeL2DSR, vlanBE),
			svc("pool4", vipPoolv4, 6, 80, shm.ModeL2DSR, staticBE(rs1v4, macRS1), staticBE(rs2v4, macRS2), staticBE(rs3v4, macRS3)),
			empty,
			svc("nat4", vipNATv4, 6, 80, shm.ModeNAT, staticBE(rs1v4, macRS1)),
			svc("unres4", vipUnresv4, 6, 80, shm.ModeL3DSR, routedBE(rsUnres, netip.MustParseAddr("198.18.0.253"))),
			svc("web6-l2", vipL2v6, 6, 80, shm.ModeL2DSR, staticBE(rs1v6, macRS1)),
			svc("web6-l3", vipL3v6, 6, 80, shm.ModeL3DSR, routedBE(rsL3v6, router6)),
			svc("dns6-l3", vipL3v6, 17, 53, shm.ModeL3DSR, routedBE(rsL3v6, router6)),
		},
	}
}

// env is one region with a published config set and a harness acting as lcore slot 0.
type env struct {
	t      testing.TB
	region *shm.Region
	writer *shm.Writer
	h      *Harness
	now    uint64
}

type envOpt func(*shm.Params)

func withFlowEntries(n uint32) envOpt { return func(p *shm.Params) { p.FlowEntries = n } }

// newEnv creates a region, publishes d (unless nil), names the ports' MACs and lets the
// routers' ARP reply and neighbour advertisement teach the dataplane their MACs.
func newEnv(t testing.TB, d *shm.Desired, opts ...envOpt) *env {
	t.Helper()
	p := shm.Params{Lcores: 2, LUTCapacity: 4096, FlowEntries: 1024}
	for _, o := range opts {
		o(&p)
	}
	r, err := shm.OpenOrCreate(filepath.Join(t.TempDir(), "region"), p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	copy(r.PortInfo(0).MAC[:], macPort0)
	copy(r.PortInfo(1).MAC[:], macPort1)
	h, err := NewHarness(r, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	e := &env{t: t, region: r, writer: shm.NewWriter(r), h: h, now: tNow}
	if d != nil {
		e.publish(d)
		e.learnRouters()
	}
	return e
}

func (e *env) publish(d *shm.Desired) {
	e.t.Helper()
	if _, err := e.writer.Publish(context.Background(), d); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) learnRouters() {
	e.t.Helper()
	for _, in := range [][]byte{arpReply(router4, macRouter, port0v4, macPort0), naFrame(router6, macRouter6, port0v6, macPort0)} {
		if r := e.h.Process(in, 0, e.now); r.Verdict != VerdictKernel {
			e.t.Fatalf("router's neighbour reply: %v %s, want it learned", r.Verdict, r.Drop)
		}
	}
}

// process runs a frame through the harness at the env's clock.
func (e *env) process(frame []byte, inPort int) Result { return e.h.Process(frame, inPort, e.now) }

// counters returns slot 0's global counters and drops as a name → value map.
func (e *env) counters() map[string]uint64 {
	c := e.region.Counters(0)
	m := map[string]uint64{}
	for i, n := range shm.CounterNames {
		m[n] = c.Global[i]
	}
	for i, n := range shm.DropReasonNames {
		m["drop:"+n] = c.Drops[i]
	}
	return m
}

// backendOf returns the index of the backend (in the service's Backends) whose MAC the
// l2dsr frame out was sent to, or -1.
func backendOf(out []byte, macs ...net.HardwareAddr) int {
	for i, m := range macs {
		if net.HardwareAddr(out[:6]).String() == m.String() {
			return i
		}
	}
	return -1
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
