package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// header is three lines, so a services list after it starts at line 4 and its first item at
// line 5.
const header = `dataplane:
  ports:
    - {name: lan, ipv4: 198.18.0.1/24, ipv6: "2001:db8::1/64", gateway4: 198.18.0.254}
`

func withServices(body string) string { return header + "services:\n" + body }

func TestExamplesParse(t *testing.T) {
	for _, path := range []string{"../../configs/tenbin.yaml", "../../configs/lab.yaml"} {
		t.Run(path, func(t *testing.T) {
			cfg, err := Load(path)
			if err != nil {
				t.Fatalf("Load:\n%v", err)
			}
			if len(cfg.Services) == 0 {
				t.Fatal("no services")
			}
		})
	}
}

// The example's comments promise these values; check the file delivers them.
func TestExampleValues(t *testing.T) {
	cfg, err := Load("../../configs/tenbin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	web := cfg.Service("web")
	if got := web.Backend("rs1").HealthCheck.Interval; got != 5*time.Second {
		t.Errorf("rs1 overrides interval: got %v, want 5s", got)
	}
	if rs2 := web.Backend("rs2"); rs2.HealthCheck.Interval != 2*time.Second || rs2.HealthCheck.Path != "/healthz" || rs2.HealthCheck.Port != 80 {
		t.Errorf("rs2 inherits the service check with its port: %+v", rs2.HealthCheck)
	}
	if got := web.Backend("rs1").MAC.String(); got != "02:00:00:00:00:11" {
		t.Errorf("rs1 mac = %s", got)
	}
	if got := cfg.Service("api-l3dsr").DSCP; got != 0x22 {
		t.Errorf("l3dsr dscp = %#x", got)
	}
	if fb := cfg.Service("api-l3dsr").Fallback; fb == nil || fb.Name != "sorry" || fb.Port != 443 {
		t.Errorf("fallback = %+v", fb)
	}
	fnat := cfg.Service("app-fnat")
	if fnat.HashFields != HashSrcIP || fnat.EgressPort != (PortRef{"dmz", 1}) || fnat.Backend("app1").EgressPort.Index != 1 {
		t.Errorf("app-fnat: hash %v egress %v backend egress %v", fnat.HashFields, fnat.EgressPort, fnat.Backend("app1").EgressPort)
	}
	dns := cfg.Service("dns")
	if !dns.AllPorts() || dns.Backends[0].Port != 0 || dns.Timeouts.UDP != 30*time.Second || dns.Timeouts.TCPEstablished != 900*time.Second {
		t.Errorf("dns: %+v", dns)
	}
	if cfg.Dataplane.Ports[0].Gateway4 != netip.MustParseAddr("198.18.0.254") {
		t.Errorf("gateway4 = %v", cfg.Dataplane.Ports[0].Gateway4)
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte(withServices(`  - name: web
    vip: 198.18.1.10
    port: 80
    mode: l3dsr
    backends: [{name: rs1, address: 198.18.0.11}]
`)))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.API.Socket != DefaultAPISocket || cfg.Metrics.Listen != "" || cfg.Dataplane.SHM != "" {
		t.Errorf("top-level defaults: %+v %+v %q", cfg.API, cfg.Metrics, cfg.Dataplane.SHM)
	}
	want := DefaultService()
	want.Name, want.VIP, want.Port, want.Mode = "web", netip.MustParseAddr("198.18.1.10"), 80, ModeL3DSR
	want.DSCP, want.HashFields = DefaultDSCP, HashAll
	want.IngressPort, want.EgressPort = PortRef{"lan", 0}, PortRef{"lan", 0}
	b := DefaultBackend()
	b.Name, b.Address, b.Port, b.EgressPort = "rs1", netip.MustParseAddr("198.18.0.11"), 80, PortRef{"lan", 0}
	b.HealthCheck = DefaultHealthCheck()
	b.HealthCheck.Port = 80
	want.Backends = []Backend{b}
	if got := &cfg.Services[0]; !got.Equal(&want) {
		t.Errorf("defaults differ: %v", cfg.Diff(&Config{Services: []Service{want}}))
	}
}

func TestVLANDefaults(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte(`dataplane:
  ports:
    - {name: a, ipv4: 198.18.0.1/24, vlan: 10}
    - {name: b, ipv4: 198.18.4.1/24, vlan: 20}
services:
  - name: web
    vip: 198.18.1.10
    port: 80
    mode: nat
    backends:
      - {name: on-a, address: 198.18.0.11}
      - {name: on-b, address: 198.18.4.11, egress_port: b}
      - {name: untagged, address: 198.18.0.12, vlan: 0}
`))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Services[0]
	for name, want := range map[string]uint16{"on-a": 10, "on-b": 20, "untagged": 0} {
		if got := s.Backend(name).VLAN; got != want {
			t.Errorf("%s: vlan %d, want %d", name, got, want)
		}
	}
}

func TestMergeKeysAndAliases(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte(header+`x-common: &common
  port: 80
  mode: nat
  health_check: &hc {kind: http, path: /h}
services:
  - <<: *common
    name: a
    vip: 198.18.1.10
  - <<: *common
    name: b
    vip: 198.18.1.11
    port: 81
    health_check: {<<: *hc, path: /other}
`))
	if err != nil {
		t.Fatal(err)
	}
	a, b := cfg.Service("a"), cfg.Service("b")
	if a.Port != 80 || a.Mode != ModeNAT || a.HealthCheck.Path != "/h" {
		t.Errorf("a: %+v", a)
	}
	if b.Port != 81 || b.HealthCheck.Kind != CheckHTTP || b.HealthCheck.Path != "/other" {
		t.Errorf("b: explicit keys must win over merged ones: %+v", b)
	}
}

func TestBadInputs(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want []string
	}{{
		name: "unknown key suggests the closest",
		yaml: withServices("  - {name: web, vip: 198.18.1.10, prot: tcp, port: 80, mode: l2dsr}\n"),
		want: []string{`t.yaml:5:35: unknown key "prot" in service; did you mean "protocol"?`},
	}, {
		name: "unknown top-level key",
		yaml: header + "servics: []\n",
		want: []string{`t.yaml:4:1: unknown key "servics" at the top level; did you mean "services"?`},
	}, {
		name: "duplicate key",
		yaml: withServices("  - {name: web, vip: 198.18.1.10, port: 80, port: 81, mode: nat}\n"),
		want: []string{`t.yaml:5:45: duplicate key "port" in service (also at t.yaml:5:35)`},
	}, {
		name: "missing required keys",
		yaml: withServices("  - name: web\n    protocol: udp\n"),
		want: []string{
			`t.yaml:5:5: service is missing required key "vip"`,
			`t.yaml:5:5: service is missing required key "port"`,
			`t.yaml:5:5: service is missing required key "mode"`,
		},
	}, {
		name: "backends: range, family, duplicate name, bad address",
		yaml: withServices(`  - name: web
    vip: 198.18.1.10
    port: 80
    mode: l2dsr
    backends:
      - {name: rs1, address: 198.18.0.11, weight: 70000}
      - {name: rs2, address: "2001:db8::12"}
      - {name: rs1, address: 198.18.0.300}
      - {name: rs4, address: 198.18.0.11}
`),
		want: []string{
			`t.yaml:10:51: weight 70000 out of range 0..65535`,
			`t.yaml:11:30: address 2001:db8::12 is IPv6 but the vip 198.18.1.10 is IPv4`,
			`t.yaml:12:16: duplicate backend name "rs1" in service "web" (also at t.yaml:10:16)`,
			`t.yaml:12:30: address "198.18.0.300" is not an IP address`,
			`t.yaml:13:30: duplicate backend 198.18.0.11:80 in service "web" (also at t.yaml:10:30)`,
		},
	}, {
		name: "duplicate VIP and name; all-ports and port services may share a VIP",
		yaml: withServices(`  - {name: a, vip: 198.18.1.10, port: 80, mode: l2dsr}
  - {name: b, vip: 198.18.1.10, port: 80, mode: nat}
  - {name: a, vip: 198.18.1.10, port: 0, mode: nat, health_check: {port: 80}}
`),
		want: []string{
			`t.yaml:6:20: duplicate VIP 198.18.1.10 tcp/80 (also at t.yaml:5:20)`,
			`t.yaml:7:12: duplicate service name "a" (also at t.yaml:5:12)`,
		},
	}, {
		name: "mode needs or forbids fields; dscp; maglev size",
		yaml: withServices(`  - {name: a, vip: 198.18.1.10, port: 80, mode: l3dsr, dscp: 64, maglev_size: 65536}
  - {name: b, vip: 198.18.1.11, port: 80, mode: nat, dscp: 0x22, client_address: toa}
  - {name: c, vip: 198.18.1.12, port: 80, mode: fnat}
  - {name: d, vip: 198.18.1.13, port: 80, mode: nat, scheduler: rr, maglev_size: 251}
  - {name: e, vip: 198.18.1.14, port: 80, mode: fnat, local_pool: pol1}
  - {name: f, vip: 198.18.1.15, port: 80, mode: nat, maglev_size: 100}
  - {name: g, vip: 198.18.1.16, port: 80, mode: nat, maglev_size: 252}
`),
		want: []string{
			`t.yaml:5:62: dscp 64 out of range 0..63`,
			`t.yaml:5:79: maglev_size 65536 is not prime (nearest primes: 65521 and 65537)`,
			`t.yaml:6:54: dscp applies only to l3dsr services (this one is nat)`,
			`t.yaml:6:66: client_address applies only to fnat services (this one is nat)`,
			`t.yaml:7:49: mode fnat needs local_pool (the source addresses it translates to)`,
			`t.yaml:8:69: maglev_size applies only to the maglev and hash schedulers (scheduler is rr)`,
			`t.yaml:9:67: local_pool "pol1" is not defined in local_pools (there are none)`,
			`t.yaml:10:67: maglev_size 100 out of range 251..655373`,
			`t.yaml:11:67: maglev_size 252 is not prime (nearest primes: 251 and 257)`,
		},
	}, {
		name: "nat options: mss clamp, fnat ports, client address",
		yaml: header + `local_pools:
  - {name: p4, addresses: [198.18.3.1]}
services:
  - {name: a, vip: 198.18.1.10, port: 80, mode: l2dsr, mss_clamp: 1400}
  - {name: b, vip: 198.18.1.11, port: 80, mode: nat, mss_clamp: 100, fnat_port_min: 2000}
  - {name: c, vip: 198.18.1.12, port: 80, mode: fnat, local_pool: p4, fnat_port_min: 5000, fnat_port_max: 4000, client_address: proxy-v2}
`,
		want: []string{
			`t.yaml:7:56: mss_clamp applies only to nat and fnat services (this one is l2dsr)`,
			`t.yaml:8:65: mss_clamp 100 out of range 536..65535`,
			`t.yaml:8:70: fnat_port_min applies only to fnat services (this one is nat)`,
			`t.yaml:9:71: fnat_port_min 5000 is above fnat_port_max 4000`,
			`t.yaml:9:129: client_address proxy-v2 is not supported by the dataplane yet (it would shift sequence numbers for the connection's life); use toa`,
		},
	}, {
		name: "syn guard: max_half_open",
		yaml: withServices(`  - {name: a, vip: 198.18.1.10, port: 80, mode: l2dsr, max_half_open: -1}
  - {name: b, vip: 198.18.1.11, port: 53, protocol: udp, mode: nat, max_half_open: 100}
  - {name: c, vip: 198.18.1.12, port: 80, mode: nat, max_half_open: 99999999}
  - {name: d, vip: 198.18.1.13, port: 80, mode: l3dsr, max_half_open: many}
`),
		want: []string{
			`t.yaml:5:71: max_half_open -1 out of range 0..16777216`,
			`t.yaml:6:69: max_half_open applies only to tcp services (a half-open flow is a TCP handshake)`,
			`t.yaml:7:69: max_half_open 99999999 out of range 0..16777216`,
			`t.yaml:8:71: max_half_open must be an integer, got "many"`,
		},
	}, {
		name: "local pool of the wrong family",
		yaml: header + `local_pools:
  - {name: p4, addresses: [198.18.3.1]}
  - {name: p4, addresses: [198.18.3.1, 0.0.0.0]}
services:
  - {name: a, vip: "2001:db8:1::1", port: 80, mode: fnat, local_pool: p4}
  - {name: b, vip: 198.18.3.1, port: 80, mode: fnat, local_pool: p}
`,
		want: []string{
			`t.yaml:6:12: duplicate local pool name "p4" (also at t.yaml:5:12)`,
			`t.yaml:6:28: address 198.18.3.1 is already in a local pool (also at t.yaml:5:28)`,
			`t.yaml:6:40: address 0.0.0.0 is not a unicast address`,
			`t.yaml:8:71: local pool "p4" has no IPv6 address for vip 2001:db8:1::1`,
			`t.yaml:9:20: vip 198.18.3.1 is also in local pool "p4"`,
			`t.yaml:9:66: local_pool "p" is not defined in local_pools; did you mean "p4"?`,
		},
	}, {
		name: "ports, gateways, api and metrics",
		yaml: `dataplane:
  shm: dev/shm/x
  ports:
    - name: LAN
      ipv4: 198.18.0.0/24
      gateway4: 198.18.1.1
    - name: dmz
      ipv4: 198.18.4.1
      gateway6: 2001:db8::1
      vlan: 4095
    - name: dmz
      ipv6: 198.18.5.1/24
      gateway4: 198.18.5.254
    - name: wan
      ipv4: 198.18.6.1/24
      gateway4: 198.18.7.1
    - {name: x, ipv4: 198.18.8.1/24, gateway4: 198.18.8.1}
api:
  socket: tenbin.sock
metrics:
  listen: localhost
`,
		want: []string{
			`t.yaml:2:8: shm "dev/shm/x" must be an absolute path`,
			`t.yaml:4:13: name "LAN" must match [a-z0-9_-]{1,15}`,
			`t.yaml:5:13: ipv4 198.18.0.0/24 is the subnet itself; write this port's own address in it`,
			`t.yaml:8:13: ipv4 198.18.4.1 needs a prefix length (the on-link subnet), e.g. 198.18.4.1/24`,
			`t.yaml:9:17: gateway6 needs ipv6 (the subnet the gateway is in)`,
			`t.yaml:10:13: vlan 4095 out of range 0..4094`,
			`t.yaml:11:13: duplicate port name "dmz" (also at t.yaml:7:13)`,
			`t.yaml:12:13: ipv6 198.18.5.1/24 is not an IPv6 address`,
			`t.yaml:13:17: gateway4 needs ipv4 (the subnet the gateway is in)`,
			`t.yaml:16:17: gateway4 198.18.7.1 is outside the port's subnet 198.18.6.0/24`,
			`t.yaml:17:48: gateway4 198.18.8.1 is the port's own address`,
			`t.yaml:19:11: socket "tenbin.sock" must be an absolute path`,
			`t.yaml:21:11: listen "localhost" must be host:port, e.g. 127.0.0.1:9542 or [::1]:9542`,
		},
	}, {
		name: "health checks: keys for other kinds, relations, ranges",
		yaml: withServices(`  - name: web
    vip: 198.18.1.10
    port: 80
    mode: nat
    health_check:
      kind: tcp
      path: /x
      interval: 1s
      timeout: 2
      rise: 0
      dsr_path: true
      expect_status: [2xx, 600]
    backends:
      - name: rs1
        address: 198.18.0.11
        health_check: {kind: agent, timeout: 1s}
      - name: rs2
        address: 198.18.0.12
        health_check: {kind: http, method: get, path: x, expect_status: 2yy, source: "2001:db8::1"}
`),
		want: []string{
			`t.yaml:11:7: path does not apply to tcp checks (only to http and https)`,
			`t.yaml:13:16: timeout 2 needs a unit, e.g. "2s"`,
			`t.yaml:14:13: rise 0 out of range 1..100`,
			`t.yaml:15:17: dsr_path applies only to l2dsr and l3dsr services (this one is nat)`,
			`t.yaml:16:7: expect_status does not apply to tcp checks (only to http and https)`,
			`t.yaml:16:28: expect_status 600 out of range 100..599`,
			`t.yaml:20:30: agent checks need agent_port (the port the backend's agent answers on)`,
			`t.yaml:20:46: timeout 1s must be shorter than interval 1s`,
			`t.yaml:23:44: method "get" must be an upper-case HTTP method, e.g. GET or HEAD`,
			`t.yaml:23:55: path "x" must start with / and contain no spaces`,
			`t.yaml:23:73: expect_status "2yy" is not a status code (200), a class ("2xx") or a range ("200-299")`,
			`t.yaml:23:86: source 2001:db8::1 is not of the backend's family (198.18.0.12)`,
		},
	}, {
		name: "next hops",
		yaml: withServices(`  - name: web
    vip: 198.18.1.10
    port: 80
    mode: l2dsr
    backends:
      - {name: rs1, address: 198.18.9.11}
      - {name: rs2, address: 198.18.9.12, mac: "01:00:5e:00:00:01"}
      - {name: rs3, address: 198.18.0.13, port: 8080}
      - {name: rs4, address: 198.18.9.14, mac: "02:00:00:00:00:14"}
  - name: web6
    vip: "2001:db8:1::10"
    port: 80
    mode: nat
    backends:
      - {name: rs1, address: "2001:db8:9::11"}
      - {name: rs2, address: "2001:db8::12"}
      - {name: rs3, address: 198.18.0.11}
`),
		want: []string{
			`t.yaml:10:30: l2dsr backend 198.18.9.11 is outside port lan's subnet 198.18.0.0/24; l2dsr needs backends on the link (or a mac)`,
			`t.yaml:11:48: mac 01:00:5e:00:00:01 is not a unicast MAC address`,
			`t.yaml:12:49: port 8080 differs from the service port 80; l2dsr does not rewrite ports (leave port out)`,
			`t.yaml:19:30: backend 2001:db8:9::11 is outside port lan's subnet 2001:db8::/64 and the port has no gateway6`,
			`t.yaml:21:30: address 198.18.0.11 is IPv4 but the vip 2001:db8:1::10 is IPv6`,
		},
	}, {
		name: "wrong types; no follow-on errors from them",
		yaml: withServices(`  - name: "my web"
    vip: 198.18.1.10
    port: http
    mode: L2DSR
    icmp_echo: yes
    slow_start: 30
    hash_fields: [src_ip, src_ip, dport]
    timeouts: {tcp_established: 2d, udp: 0.5s}
    scheduler: lc
    ingress_port: lna
    backends: {name: rs1}
`),
		want: []string{
			`t.yaml:5:11: name "my web" must match [a-zA-Z0-9_.-]{1,31}`,
			`t.yaml:7:11: port must be an integer, got "http"`,
			`t.yaml:8:11: mode "L2DSR" is not one of l2dsr|l3dsr|nat|fnat; did you mean "l2dsr"?`,
			`t.yaml:9:16: icmp_echo must be true or false, got "yes"`,
			`t.yaml:10:17: slow_start 30 needs a unit, e.g. "30s"`,
			`t.yaml:11:27: hash field "src_ip" is listed twice`,
			`t.yaml:11:35: hash field "dport" is not one of src_ip, src_port, dst_ip, dst_port, proto`,
			`t.yaml:12:33: tcp_established "2d" is not a duration (e.g. "2s", "1m30s")`,
			`t.yaml:12:42: udp 0.5s out of range 1s..24h`,
			`t.yaml:13:16: scheduler "lc" is not one of maglev|hash|rr|wrr|least-conn|least-traffic|least-load|fastest`,
			`t.yaml:14:19: ingress_port "lna" is not a dataplane port; did you mean "lan"?`,
			`t.yaml:15:15: backends must be a list, got a mapping`,
		},
	}, {
		name: "fallback, icmp_echo per VIP, vip on a port, schedulers needing checks, proxy",
		yaml: withServices(`  - {name: a, vip: 198.18.1.10, port: 80, mode: nat, when_all_down: fallback}
  - {name: b, vip: 198.18.1.10, port: 81, mode: nat, icmp_echo: false, fallback: {name: s, address: 198.18.0.99}}
  - {name: c, vip: 198.18.0.1, port: 81, mode: nat, scheduler: least-load, backends: [{name: x, address: 198.18.0.2}]}
  - {name: d, vip: 198.18.1.11, port: 81, mode: nat, scheduler: fastest, backends: [{name: x, address: 198.18.0.2, health_check: {kind: none}}]}
proxy: [1]
`),
		want: []string{
			`t.yaml:5:69: when_all_down fallback needs a fallback backend`,
			`t.yaml:6:54: icmp_echo false differs from service "a" on the same vip 198.18.1.10 (at t.yaml:5:20); the address answers ping or not as a whole`,
			`t.yaml:6:72: fallback is used only with when_all_down: fallback (this service has drop)`,
			`t.yaml:7:20: vip 198.18.0.1 is the address of port lan`,
			`t.yaml:7:53: scheduler least-load needs agent health checks (the agent reports the load); backend "x" has tcp`,
			`t.yaml:8:54: scheduler fastest needs health checks (they measure response time); backend "x" has none`,
			`t.yaml:9:8: proxy must be a mapping, got a list`,
		},
	}, {
		name: "all-ports services",
		yaml: withServices(`  - {name: a, vip: 198.18.1.10, port: 0, mode: nat, backends: [{name: x, address: 198.18.0.2, port: 53}]}
  - {name: b, vip: 198.18.1.11, port: 0, mode: nat, health_check: {kind: none}, backends: [{name: x, address: 198.18.0.2, health_check: {kind: tcp}}]}
  - {name: c, vip: 198.18.1.12, port: 80, mode: nat, backends: [{name: x, address: 198.18.0.2, port: 0}]}
`),
		want: []string{
			`t.yaml:5:39: an all-ports service needs a health_check port for tcp checks`,
			`t.yaml:5:101: port 53 on an all-ports service; its backends keep the client's destination port (leave port out)`,
			`t.yaml:6:144: tcp checks need a port on an all-ports service`,
			`t.yaml:7:102: port 0 (the client's port) is only for all-ports services; leave port out for the service port 80`,
		},
	}, {
		name: "services without ports",
		yaml: "services:\n  - {name: a, vip: 198.18.1.10, port: 80, mode: nat}\n",
		want: []string{`t.yaml:1:1: services need at least one dataplane port, and dataplane.ports is empty`},
	}, {
		name: "empty file",
		yaml: "",
		want: []string{`t.yaml: the file is empty`},
	}, {
		name: "YAML syntax error",
		yaml: "services:\n  - name: web\n    vip: [1, 2\n",
		want: []string{`t.yaml:2: YAML: did not find expected ',' or ']'`},
	}, {
		name: "two documents",
		yaml: header + "---\nservices: []\n",
		want: []string{`t.yaml:4:1: a second YAML document; the configuration is one document`},
	}, {
		name: "top level is not a mapping",
		yaml: "- a\n",
		want: []string{`t.yaml:1:1: the configuration must be a mapping, got a list`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error; config %+v", cfg)
			}
			if cfg != nil {
				t.Error("a Config came back with the errors")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false for %T", err)
			}
			if got, want := err.Error(), strings.Join(tc.want, "\n"); got != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString(header + "services:\n")
	for i := range MaxServices + 1 {
		fmt.Fprintf(&b, "  - {name: s%d, vip: 198.18.1.1, port: %d, mode: nat}\n", i, i+1)
	}
	_, err := Parse("t.yaml", []byte(b.String()))
	want := fmt.Sprintf("t.yaml:%d:5: more than 256 services (the dataplane's limit)", 5+MaxServices)
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}

	b.Reset()
	b.WriteString(header + "services:\n")
	line := 5
	for i := range 2 {
		fmt.Fprintf(&b, "  - name: s%d\n    vip: 198.18.1.1\n    port: %d\n    mode: nat\n    backends:\n", i, i+1)
		line += 5
		for j := range (MaxBackends + 1) / 2 {
			fmt.Fprintf(&b, "      - {name: b%d, address: 198.18.0.%d, port: %d}\n", j, 2+j%250, 1+j)
			line++
		}
	}
	_, err = Parse("t.yaml", []byte(b.String()))
	want = fmt.Sprintf("t.yaml:%d:9: more than 4095 backends in all services, fallbacks included (the dataplane's limit)", line-1)
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}

	// Each fnat service takes its own run of local-address slots: two services on one pool
	// of 40 addresses need 80 of the dataplane's 64, though the pool itself fits.
	b.Reset()
	b.WriteString(header + "local_pools:\n  - name: p\n    addresses:\n")
	for i := range 40 {
		fmt.Fprintf(&b, "      - 198.19.0.%d\n", i+1)
	}
	b.WriteString("services:\n")
	for i := range 2 {
		fmt.Fprintf(&b, "  - {name: f%d, vip: 198.18.1.1, port: %d, mode: fnat, local_pool: p}\n", i, i+1)
	}
	_, err = Parse("t.yaml", []byte(b.String()))
	want = fmt.Sprintf("t.yaml:%d:66: fnat services need more than 64 local-address slots in all", strings.Count(b.String(), "\n"))
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want %s…", err, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("does-not-exist.yaml")
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrInvalid) {
		t.Errorf("got %v", err)
	}
}

func TestErrorsAs(t *testing.T) {
	_, err := Parse("t.yaml", []byte(withServices("  - {name: web, vip: 1.2.3, port: 80, mode: nat}\n")))
	var e *Error
	if !errors.As(err, &e) || e.Line != 5 || e.Column != 22 {
		t.Errorf("errors.As: %#v", e)
	}
}

func TestPrimes(t *testing.T) {
	for _, p := range []uint32{MinMaglevSize, DefaultMaglev, MaxMaglevSize} {
		if !isPrime(p) {
			t.Errorf("%d should be prime", p)
		}
	}
	if below, above := nearestPrimes(MaxMaglevSize - 1); below != 655357 || above != MaxMaglevSize {
		t.Errorf("nearestPrimes: %d %d", below, above)
	}
}

func TestMACParsing(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte(withServices(`  - name: web
    vip: 198.18.1.10
    port: 80
    mode: l2dsr
    backends: [{name: rs1, address: 198.18.9.1, mac: "02-00-00-00-00-0A"}]
`)))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Services[0].Backends[0].MAC; got.String() != (net.HardwareAddr{2, 0, 0, 0, 0, 10}).String() {
		t.Errorf("mac = %v", got)
	}
}

// configs/tenbin.yaml is the reference: every key the parser knows must be documented there.
func TestExampleDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile("../../configs/tenbin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	keys := slices.Concat(serviceKeys, backendKeys, checkKeys, []string{
		"dataplane", "shm", "ports", "ipv4", "ipv6", "gateway4", "gateway6", "vlan", "api", "socket",
		"metrics", "listen", "local_pools", "addresses", "tcp_established", "tcp_syn", "tcp_fin", "udp", "proxy",
	})
	for _, k := range keys {
		if !regexp.MustCompile(`(?m)^[ #-]*` + k + `:`).Match(data) {
			t.Errorf("configs/tenbin.yaml does not document %q", k)
		}
	}
}
