package realserver

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestParseDSCP(t *testing.T) {
	for in, want := range map[string]uint8{"34": 34, "0x22": 0x22, "0X22": 0x22, "af41": 0x22, "EF": 46, "0": 0, "63": 63} {
		got, err := ParseDSCP(in)
		if err != nil || got != want {
			t.Errorf("ParseDSCP(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"64", "-1", "0x40", "", "af99", "3.5"} {
		if _, err := ParseDSCP(in); !errors.Is(err, ErrInvalidDSCP) {
			t.Errorf("ParseDSCP(%q) error = %v, want ErrInvalidDSCP", in, err)
		}
	}
}

func TestParseVIP(t *testing.T) {
	v, err := ParseVIP("198.18.0.10", 0x22)
	if err != nil || v != (VIP{netip.MustParseAddr("198.18.0.10"), 0x22}) {
		t.Errorf("plain VIP = %+v, %v", v, err)
	}
	v, err = ParseVIP("2001:db8::10@0x24", 0x22)
	if err != nil || v != (VIP{netip.MustParseAddr("2001:db8::10"), 0x24}) {
		t.Errorf("VIP with DSCP = %+v, %v", v, err)
	}
	v, err = ParseVIP("::ffff:198.18.0.10", 0x22)
	if err != nil || !v.Addr.Is4() {
		t.Errorf("v4-mapped VIP = %+v, %v; want plain IPv4", v, err)
	}
	for _, in := range []string{"198.18.0", "198.18.0.10@64", "example.com"} {
		if _, err := ParseVIP(in, 0x22); err == nil {
			t.Errorf("ParseVIP(%q) accepted", in)
		}
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	a := netip.MustParseAddr
	cases := []struct {
		name string
		spec Spec
		want []string // substrings, all expected in the error
	}{
		{"no mode", Spec{VIPs: []VIP{{Addr: a("198.18.0.10")}}}, []string{"mode"}},
		{"no vip", Spec{Mode: ModeL2DSR}, []string{"no VIP"}},
		{"loopback vip", Spec{Mode: ModeL2DSR, VIPs: []VIP{{Addr: a("127.0.0.2")}}}, []string{"not a usable unicast"}},
		{"duplicate vip", Spec{Mode: ModeL2DSR, VIPs: []VIP{{Addr: a("198.18.0.10")}, {Addr: a("198.18.0.10")}}}, []string{"given twice"}},
		{"rip in l2dsr", Spec{Mode: ModeL2DSR, VIPs: []VIP{{Addr: a("198.18.0.10")}}, RIPs: []netip.Addr{a("198.18.1.2")}}, []string{"only to l3dsr"}},
		{"l3dsr without rip of the family", Spec{Mode: ModeL3DSR, VIPs: []VIP{{Addr: a("198.18.0.10")}, {Addr: a("2001:db8::10")}}, RIPs: []netip.Addr{a("198.18.1.2")}},
			[]string{"2001:db8::10 needs an IPv6 --rip"}},
		{"two vips one dscp", Spec{Mode: ModeL3DSR, VIPs: []VIP{{a("198.18.0.10"), 0x22}, {a("198.18.0.11"), 0x22}}, RIPs: []netip.Addr{a("198.18.1.2")}},
			[]string{"both use dscp 0x22"}},
		{"two rips one family and rip is vip", Spec{Mode: ModeL3DSR, VIPs: []VIP{{a("198.18.0.10"), 0x22}}, RIPs: []netip.Addr{a("198.18.1.2"), a("198.18.0.10")}},
			[]string{"more than one IPv4 rip", "rip 198.18.0.10 is also a vip"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.spec.Validate()
			if !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("Validate() = %v, want ErrInvalidSpec", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to mention %q", err, w)
				}
			}
		})
	}
	ok := Spec{Mode: ModeL3DSR, VIPs: []VIP{{a("198.18.0.10"), 0x22}, {a("198.18.0.11"), 0x24}, {a("2001:db8::10"), 0x22}},
		RIPs: []netip.Addr{a("198.18.1.2"), a("2001:db8:1::2")}}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid spec rejected: %v", err)
	}
}
