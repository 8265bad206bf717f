// Package maglev builds Maglev consistent-hash lookup tables as described by
// Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load
// Balancer", NSDI 2016, with weights honoured on every round of the fill.
//
// The table depends only on the backends' names and weights, the table size
// and the seed: never on the order of the input or on the machine, so several
// load-balancer nodes behind ECMP build byte-identical tables.
package maglev

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// Table sizes must be primes in MinSize..MaxSize. A larger table spreads
// weight more finely and moves fewer flows on a change, at the cost of memory
// in the dataplane (4 bytes a slot here).
const (
	MinSize     uint32 = 251
	DefaultSize uint32 = 65537
	MaxSize     uint32 = 655373
)

// MaxBackends bounds the backends of one table, so an owner fits 16 bits.
// The shared-memory region has its own, smaller limit, checked by its writer.
const MaxBackends = 65535

// Errors returned by Build, wrapped with the offending value.
var (
	ErrSizeNotPrime    = errors.New("table size is not prime")
	ErrSizeRange       = errors.New("table size out of range")
	ErrDuplicateName   = errors.New("duplicate backend name")
	ErrTooManyBackends = errors.New("too many backends")
)

// Backend is one entry of the population: Name is the stable identity that
// positions it in the table, Weight its relative share (0 = no slots).
type Backend struct {
	Name   string
	Weight uint32
}

// Build returns a table of size slots, each holding the index into backends
// of the slot's owner. Every slot is filled when some backend has a positive
// weight, each backend's share of slots being its share of the total weight
// (to the nearest slot); when none has, every slot is -1. See fill for how
// weights take part in the fill.
func Build(backends []Backend, size uint32, seed uint64) ([]int32, error) {
	if size < MinSize || size > MaxSize {
		return nil, fmt.Errorf("size %d, want a prime in %d..%d: %w", size, MinSize, MaxSize, ErrSizeRange)
	}
	if !IsPrime(size) {
		return nil, fmt.Errorf("size %d, next prime is %d: %w", size, NextPrime(size), ErrSizeNotPrime)
	}
	if len(backends) > MaxBackends || len(backends) > int(size) {
		return nil, fmt.Errorf("%d backends, table size %d allows at most %d: %w",
			len(backends), size, min(MaxBackends, int(size)), ErrTooManyBackends)
	}

	byName := make([]int32, len(backends))
	for i := range byName {
		byName[i] = int32(i)
	}
	slices.SortFunc(byName, func(a, b int32) int {
		return cmp.Compare(backends[a].Name, backends[b].Name)
	})
	fillers := make([]filler, 0, len(backends))
	var maxWeight uint64
	for k, i := range byName {
		if k > 0 && backends[byName[k-1]].Name == backends[i].Name {
			return nil, fmt.Errorf("backend %q: %w", backends[i].Name, ErrDuplicateName)
		}
		w := uint64(backends[i].Weight)
		if w == 0 {
			continue
		}
		p := newPermutation(backends[i].Name, size, seed)
		fillers = append(fillers, filler{weight: w, next: p.offset, skip: p.skip, limit: size - p.skip, index: i})
		maxWeight = max(maxWeight, w)
	}

	table := make([]int32, size)
	for i := range table {
		table[i] = -1
	}
	if len(fillers) == 0 {
		return table, nil
	}
	fill(table, fillers, maxWeight)
	return table, nil
}
