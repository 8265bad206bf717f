package config

import (
	"slices"
	"strings"
	"testing"
)

func mustParse(t *testing.T, text string) *Config {
	t.Helper()
	cfg, err := Parse("t.yaml", []byte(text))
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	return cfg
}

const diffOld = `dataplane:
  ports:
    - {name: lan, ipv4: 198.18.0.1/24}
    - {name: dmz, ipv4: 198.18.4.1/24}
local_pools:
  - {name: p, addresses: [198.18.3.1]}
services:
  - name: web
    vip: 198.18.1.10
    port: 80
    mode: nat
    health_check: {interval: 2s}
    backends:
      - {name: rs1, address: 198.18.0.11}
      - {name: rs2, address: 198.18.0.12}
      - {name: rs3, address: 198.18.0.13, health_check: {interval: 5s}}
  - {name: gone, vip: 198.18.1.11, port: 80, mode: nat}
  - {name: same, vip: 198.18.1.12, port: 80, mode: nat, backends: [{name: a, address: 198.18.0.21}]}
  - {name: viadmz, vip: 198.18.1.13, port: 80, mode: fnat, local_pool: p, egress_port: dmz}
`

// The new file changes web's check interval (inherited by rs1 and rs2, overridden by rs3),
// drains rs2, removes rs1, adds rs4, removes a service, adds one, changes a pool and the
// metrics address, and leaves "same" alone.
const diffNew = `dataplane:
  ports:
    - {name: lan, ipv4: 198.18.0.1/24}
    - {name: dmz, ipv4: 198.18.4.1/24}
metrics:
  listen: 127.0.0.1:9542
local_pools:
  - {name: p, addresses: [198.18.3.1, 198.18.3.2]}
services:
  - name: web
    vip: 198.18.1.10
    port: 80
    mode: nat
    health_check: {interval: 3s}
    backends:
      - {name: rs2, address: 198.18.0.12, weight: 0}
      - {name: rs3, address: 198.18.0.13, health_check: {interval: 5s}}
      - {name: rs4, address: 198.18.0.14}
  - {name: same, vip: 198.18.1.12, port: 80, mode: nat, backends: [{name: a, address: 198.18.0.21}]}
  - {name: new, vip: 198.18.1.14, port: 80, mode: l3dsr}
  - {name: viadmz, vip: 198.18.1.13, port: 80, mode: fnat, local_pool: p, egress_port: dmz}
`

func TestDiff(t *testing.T) {
	old, cur := mustParse(t, diffOld), mustParse(t, diffNew)
	var got []string
	for _, c := range cur.Diff(old) {
		got = append(got, c.String())
	}
	want := []string{
		`~ setting metrics.listen: metrics.listen "" → "127.0.0.1:9542"`,
		`~ local_pool p: addresses [198.18.3.1] → [198.18.3.1, 198.18.3.2]`,
		`~ service web: health_check.interval 2s → 3s`,
		`~ backend web/rs2: weight 100 → 0`,
		`+ backend web/rs4`,
		`- backend web/rs1`,
		`+ service new`,
		`- service gone`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	if changed := cur.ChangedServices(old); !slices.Equal(changed, []string{"web", "new", "viadmz"}) {
		t.Errorf("ChangedServices = %v, want web, new and viadmz (its pool changed)", changed)
	}
}

func TestDiffIdentical(t *testing.T) {
	a, b := mustParse(t, diffOld), mustParse(t, diffOld)
	if d := a.Diff(b); len(d) != 0 || !a.Equal(b) {
		t.Errorf("identical configs differ: %v", d)
	}
	if !a.Services[0].Equal(&b.Services[0]) || !a.Services[0].Backends[0].Equal(&b.Services[0].Backends[0]) {
		t.Error("Service.Equal or Backend.Equal false for identical values")
	}
}

// A port that moves to another index changes what the dataplane sees for every service using
// it, though no service's keys changed; the others are left alone.
func TestDiffPortMoves(t *testing.T) {
	old := mustParse(t, diffOld)
	cur := mustParse(t, strings.Replace(diffOld,
		"    - {name: dmz, ipv4: 198.18.4.1/24}\n",
		"    - {name: wan, ipv4: 198.18.6.1/24}\n    - {name: dmz, ipv4: 198.18.4.1/24, vlan: 7}\n", 1))
	var got []string
	for _, c := range cur.Diff(old) {
		got = append(got, c.String())
	}
	want := []string{"+ port wan", "~ port dmz: index 1 → 2, vlan 0 → 7", "~ service viadmz: egress_vlan 0 → 7"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if changed := cur.ChangedServices(old); !slices.Equal(changed, []string{"viadmz"}) {
		t.Errorf("ChangedServices = %v, want only viadmz", changed)
	}
}

func TestDiffFallbackAndCheckFields(t *testing.T) {
	base := header + `services:
  - name: web
    vip: 198.18.1.10
    port: 80
    mode: nat
    when_all_down: fallback
    fallback: {name: sorry, address: 198.18.0.99}
    health_check: {kind: http, expect_status: 2xx}
    backends: [{name: rs1, address: 198.18.0.11, mac: "02:00:00:00:00:01"}]
`
	old := mustParse(t, base)
	cur := mustParse(t, strings.NewReplacer(
		"198.18.0.99", "198.18.0.98",
		"2xx", "[200, 204]",
		"02:00:00:00:00:01", "02:00:00:00:00:02",
	).Replace(base))
	var got []string
	for _, c := range cur.Diff(old) {
		got = append(got, c.String())
	}
	want := []string{
		"~ service web: fallback.address 198.18.0.99 → 198.18.0.98, health_check.expect_status 200-299 → 200,204",
		"~ backend web/rs1: mac 02:00:00:00:00:01 → 02:00:00:00:00:02",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
