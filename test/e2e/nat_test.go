package e2e

import (
	"encoding/json"
	"net/netip"
	"net/url"
	"path/filepath"
	"testing"
)

// natService is a nat or fnat service of the lab (configs/lab.yaml) and what its real servers
// must see of a client.
type natService struct {
	name, url string
	source    string // the client's address: the one the real servers route back via the balancer
	peer      string // the client address the real servers see (fnat: the local address)
	toa       string // the client address carried in TOA ("" for none)
}

var natServices = []natService{
	{"web-nat", "http://198.18.0.102/", "198.18.0.3", "198.18.0.3", ""},
	{"web-nat-v6", "http://[2001:db8::102]/", "2001:db8::3", "2001:db8::3", ""},
	{"web-fnat", "http://198.18.0.103/", "198.18.0.3", "198.18.10.50", "198.18.0.3"},
	{"web-fnat-v6", "http://[2001:db8::103]/", "2001:db8::3", "2001:db8:10::50", "2001:db8::3"},
}

// TestNATClientAddressAndShares: thousands of requests over new connections to each nat and
// fnat VIP (port 80 mapped to the servers' 8080) all succeed and spread by weight; every
// request reached its server from the client's own address (nat) or from the balancer's
// local address with the client's address in the SYN's TOA option (fnat); every answer came
// back through the balancer (its nat_replies counter).
func TestNATClientAddressAndShares(t *testing.T) {
	l := requireLab(t)
	bs, err := l.backends()
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range natServices {
		t.Run(svc.name, func(t *testing.T) {
			before := l.dataplaneCounters(t)
			r := l.loadFrom(t, svc.url, svc.source, sharesRequests)
			after := l.dataplaneCounters(t)
			replies, toas := after["nat_replies"]-before["nat_replies"], after["toa_added"]-before["toa_added"]
			full := after["flow_table_full"] - before["flow_table_full"]
			t.Logf("%s %s from %s: %v; servers saw clients %v, TOA %v; balancer: %d replies NATed back, %d TOA options added, %d SYNs refused for a full flow bucket",
				svc.name, svc.url, svc.source, r, r.Clients, r.TOA, replies, toas, full)
			checkShares(t, svc.name, bs, r, sharesRequests)
			if r.Clients[svc.peer] != r.OK || len(r.Clients) != 1 {
				t.Errorf("servers saw clients %v, want %s on all %d answers", r.Clients, svc.peer, r.OK)
			}
			if r.TOA[svc.toa] != r.OK || len(r.TOA) != 1 {
				t.Errorf("servers read TOA client addresses %v, want %q on all %d answers", r.TOA, svc.toa, r.OK)
			}
			// Each answered request's SYN-ACK and response at least came back through the balancer.
			if replies < uint64(2*r.OK) {
				t.Errorf("nat_replies grew by %d for %d answered requests: replies bypassed the balancer", replies, r.OK)
			}
			if svc.toa != "" && toas < uint64(r.OK) {
				t.Errorf("toa_added grew by %d for %d connections", toas, r.OK)
			}
		})
	}
}

// TestNATBothDirectionsPassBalancer: for nat and fnat both directions cross the balancer, on
// both of its ports. tcpdump runs on the router's ends of the balancer's veths (the dataplane
// sends with net_af_packet's qdisc bypass, which captures inside the balancer would miss):
// client → VIP and VIP → client on p0, balancer → server and server → balancer on p1.
func TestNATBothDirectionsPassBalancer(t *testing.T) {
	l := requireLab(t)
	vips := map[netip.Addr]string{}  // p0: the VIPs
	peers := map[netip.Addr]string{} // p1: the client address each service's servers see
	for _, svc := range natServices {
		u, err := url.Parse(svc.url)
		if err != nil {
			t.Fatal(err)
		}
		vips[netip.MustParseAddr(u.Hostname())] = svc.name
		peers[netip.MustParseAddr(svc.peer)] = svc.name
	}
	dir := t.TempDir()
	p0 := startCapture(t, "router", "v-lb-p0", filepath.Join(dir, "p0.pcap"))
	p1 := startCapture(t, "router", "v-lb-p1", filepath.Join(dir, "p1.pcap"))
	for _, svc := range natServices {
		if r := l.loadFrom(t, svc.url, svc.source, 200); r.failed() != 0 {
			t.Errorf("%s: %v", svc.name, r)
		}
	}
	p0.stop(t)
	p1.stop(t)
	toVIP, fromVIP := p0.countVIPPackets(t, vips)
	// On p1 the balancer sends from the peer address and the servers answer to it.
	toPeer, fromPeer := p1.countVIPPackets(t, peers)
	for _, svc := range natServices {
		t.Logf("%s: p0 client→VIP %d, VIP→client %d; p1 balancer→servers %d, servers→balancer %d",
			svc.name, toVIP[svc.name], fromVIP[svc.name], fromPeer[svc.name], toPeer[svc.name])
		for _, c := range []struct {
			what string
			n    int
		}{
			{"client → VIP on p0", toVIP[svc.name]},
			{"VIP → client on p0 (replies)", fromVIP[svc.name]},
			{"balancer → servers on p1", fromPeer[svc.name]},
			{"servers → balancer on p1 (replies)", toPeer[svc.name]},
		} {
			if c.n == 0 {
				t.Errorf("%s: no %s packet seen", svc.name, c.what)
			}
		}
	}
}

// dataplaneCounters reads the dataplane's global counters from the lab's region.
func (l *lab) dataplaneCounters(t *testing.T) map[string]uint64 {
	t.Helper()
	out := l.mustCLI(t, "--output", "json", "shm", "inspect", labShm)
	var region struct {
		Counters map[string]uint64 `json:"counters"`
	}
	if err := json.Unmarshal(out, &region); err != nil {
		t.Fatalf("shm inspect: %v", err)
	}
	return region.Counters
}
