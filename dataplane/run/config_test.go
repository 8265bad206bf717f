package run

import (
	"testing"

	"tenbin/cgo/dpdk"
)

func TestPoolLayoutKeepsPagesForAFXDP(t *testing.T) {
	cases := []struct {
		ports []string
		want  dpdk.PoolLayout
	}{
		{[]string{"net_af_packet0,iface=p0", "net_af_packet1,iface=p1"}, dpdk.PackedWhereSafe},
		{[]string{"net_pcap0,rx_pcap=/tmp/x.pcap,infinite_rx=1", "net_null0,no-rx=1"}, dpdk.PackedWhereSafe},
		{[]string{"net_af_packet0,iface=p0", "net_af_xdp1,iface=p1"}, dpdk.PageBound},
	}
	for _, c := range cases {
		if got := poolLayout(c.ports); got != c.want {
			t.Errorf("poolLayout(%q) = %d, want %d", c.ports, got, c.want)
		}
	}
}
