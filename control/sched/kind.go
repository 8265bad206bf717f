package sched

import (
	"errors"
	"fmt"
)

// Kind names a scheduler as the configuration spells it.
type Kind string

// The schedulers of the seed.
const (
	Maglev       Kind = "maglev"
	Hash         Kind = "hash"
	RR           Kind = "rr"
	WRR          Kind = "wrr"
	LeastConn    Kind = "least-conn"
	LeastTraffic Kind = "least-traffic"
	LeastLoad    Kind = "least-load"
	Fastest      Kind = "fastest"
)

// Kinds lists every scheduler, the default first.
var Kinds = []Kind{Maglev, Hash, RR, WRR, LeastConn, LeastTraffic, LeastLoad, Fastest}

// ErrUnknownKind is returned by ParseKind for a name that is not a scheduler.
var ErrUnknownKind = errors.New("unknown scheduler")

// ParseKind returns the Kind named s; "" is the default, maglev.
func ParseKind(s string) (Kind, error) {
	if s == "" {
		return Maglev, nil
	}
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("%w %q (want one of %v)", ErrUnknownKind, s, Kinds)
}

// Feedback reports whether the kind's weights follow measurements and so
// must be recomputed every period.
func (k Kind) Feedback() bool {
	switch k {
	case LeastConn, LeastTraffic, LeastLoad, Fastest:
		return true
	}
	return false
}

// UsesTable reports whether the dataplane walks an RRTable for this kind
// instead of a Maglev table.
func (k Kind) UsesTable() bool { return k == RR || k == WRR }
