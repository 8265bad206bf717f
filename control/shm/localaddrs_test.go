package shm

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
)

func fnatService(name string, locals ...string) ServiceSpec {
	s := webService("198.18.2.11")
	s.Name, s.Mode = name, ModeFNAT
	s.VIP = netip.MustParseAddr(fmt.Sprintf("198.18.1.%d", name[0]))
	for _, a := range locals {
		s.LocalAddrs = append(s.LocalAddrs, netip.MustParseAddr(a))
	}
	return s
}

// localView is what the active set's slots hold ("" for none) and each fnat service's run.
func localView(r *Region) ([]string, map[string][2]uint8) {
	cs := r.ConfigSet(r.ActiveIndex())
	slots := make([]string, 0, MaxLocalAddrs)
	for _, la := range cs.LocalAddrs {
		a := ""
		if la.Family != 0 {
			a = addrFrom(la.Addr, la.Family).String()
		}
		slots = append(slots, a)
	}
	runs := map[string][2]uint8{}
	for i := 0; i < int(cs.NServices); i++ {
		if s := &cs.Services[i]; s.Family != 0 && s.LocalCount != 0 {
			runs[CString(s.Name[:])] = [2]uint8{s.LocalPool, s.LocalCount}
		}
	}
	return slots, runs
}

func publish(t *testing.T, w *Writer, services ...ServiceSpec) error {
	t.Helper()
	_, err := w.Publish(context.Background(), &Desired{Services: services})
	return err
}

// A connection names its local address by slot, and the dataplane rewrites from the slot
// of whatever set is active: a slot keeps its address while a pool offers it or any lcore
// counts connections on it, and only then takes another.
func TestLocalAddressSlotsKeepTheirAddressWhileConnectionsHoldThem(t *testing.T) {
	r := testRegion(t)
	w := NewWriter(r)
	must := func(services ...ServiceSpec) {
		t.Helper()
		if err := publish(t, w, services...); err != nil {
			t.Fatal(err)
		}
	}
	want := func(step string, slots []string, runs map[string][2]uint8) {
		t.Helper()
		got, gotRuns := localView(r)
		for i, a := range slots {
			if got[i] != a {
				t.Errorf("%s: slot %d holds %q, want %q (slots %q)", step, i, got[i], a, got[:len(slots)+1])
			}
		}
		for i := len(slots); i < MaxLocalAddrs; i++ {
			if got[i] != "" {
				t.Errorf("%s: slot %d holds %q, want none", step, i, got[i])
			}
		}
		if fmt.Sprint(gotRuns) != fmt.Sprint(runs) {
			t.Errorf("%s: runs %v, want %v", step, gotRuns, runs)
		}
	}

	must(fnatService("a", "198.19.1.1", "198.19.1.2"))
	want("first", []string{"198.19.1.1", "198.19.1.2"}, map[string][2]uint8{"a": {0, 2}})
	must(fnatService("a", "198.19.1.1", "198.19.1.2"), fnatService("b", "198.19.2.1"))
	want("another service", []string{"198.19.1.1", "198.19.1.2", "198.19.2.1"}, map[string][2]uint8{"a": {0, 2}, "b": {2, 1}})

	// a's pool changes while lcore 1 holds a connection on 198.19.1.1: a gets a fresh run;
	// the old slots keep their addresses outside any pool (this publish: the set it
	// replaces still offers them).
	r.Counters(1).LocalConns[0] = 1
	must(fnatService("a", "198.19.1.3"), fnatService("b", "198.19.2.1"))
	want("pool changed", []string{"198.19.1.1", "198.19.1.2", "198.19.2.1", "198.19.1.3"},
		map[string][2]uint8{"a": {3, 1}, "b": {2, 1}})
	// Next publish: 198.19.1.2 is in no pool of the active set and holds nothing: free, and
	// the next new pool may take it; 198.19.1.1 still holds a connection.
	must(fnatService("a", "198.19.1.3"), fnatService("b", "198.19.2.1"), fnatService("c", "198.19.3.1"))
	want("drained", []string{"198.19.1.1", "198.19.3.1", "198.19.2.1", "198.19.1.3"},
		map[string][2]uint8{"a": {3, 1}, "b": {2, 1}, "c": {1, 1}})

	// A restarted control plane adopts the slots, draining ones too.
	w = NewWriter(r)
	must(fnatService("a", "198.19.1.3"), fnatService("b", "198.19.2.1"), fnatService("c", "198.19.3.1"))
	want("after a restart", []string{"198.19.1.1", "198.19.3.1", "198.19.2.1", "198.19.1.3"},
		map[string][2]uint8{"a": {3, 1}, "b": {2, 1}, "c": {1, 1}})

	// The connection closes: its slot is free at the next publish.
	r.Counters(1).LocalConns[0] = 0
	must(fnatService("a", "198.19.1.3"), fnatService("b", "198.19.2.1"), fnatService("c", "198.19.3.1"))
	want("closed", []string{"", "198.19.3.1", "198.19.2.1", "198.19.1.3"},
		map[string][2]uint8{"a": {3, 1}, "b": {2, 1}, "c": {1, 1}})
}

// A changed pool that finds no free run (slots held by connections through removed
// addresses) is refused with a clear error, and the running set stays.
func TestLocalAddressSlotsFullIsRefusedAndTheRunningSetStays(t *testing.T) {
	r := testRegion(t)
	w := NewWriter(r)
	pool := func(third byte) ServiceSpec {
		var addrs []string
		for i := range 40 {
			addrs = append(addrs, fmt.Sprintf("198.19.%d.%d", third, i+1))
		}
		return fnatService("a", addrs...)
	}
	if err := publish(t, w, pool(1)); err != nil {
		t.Fatal(err)
	}
	gen := r.ConfigSet(r.ActiveIndex()).Generation
	r.Counters(0).LocalConns[5] = 3 // a connection through 198.19.1.6 on lcore 0
	err := publish(t, w, pool(2))   // 40 new slots: only 24 are free
	if !errors.Is(err, ErrBadSpec) {
		t.Fatalf("40 addresses with 40 of 64 slots held: err %v, want ErrBadSpec", err)
	}
	if cs := r.ConfigSet(r.ActiveIndex()); cs.Generation != gen {
		t.Fatalf("a refused publish changed the active set: generation %d, want %d", cs.Generation, gen)
	}
	if slots, runs := localView(r); slots[5] != "198.19.1.6" || runs["a"] != [2]uint8{0, 40} {
		t.Fatalf("after the refusal: slot 5 %q, runs %v", slots[5], runs)
	}
}
