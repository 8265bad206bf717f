package health

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Kind names a check as the configuration spells it.
type Kind string

// Check kinds.
const (
	TCP   Kind = "tcp"
	HTTP  Kind = "http"
	HTTPS Kind = "https"
	UDP   Kind = "udp"
	Agent Kind = "agent"
	None  Kind = "none"
)

// Kinds lists every check kind.
var Kinds = []Kind{TCP, HTTP, HTTPS, UDP, Agent, None}

// ErrUnknownKind is returned for a check kind that does not exist.
var ErrUnknownKind = errors.New("unknown health check kind")

// ErrInvalidSpec is returned by Spec.Validate.
var ErrInvalidSpec = errors.New("invalid health check")

// ParseKind returns the Kind named s.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("%w %q (want one of %v)", ErrUnknownKind, s, Kinds)
}

// StatusRange is an inclusive range of HTTP status codes; a single code has
// Lo == Hi.
type StatusRange struct{ Lo, Hi int }

func (r StatusRange) contains(code int) bool { return code >= r.Lo && code <= r.Hi }

// Spec says how to check the backends of one service.
type Spec struct {
	Kind              Kind
	Interval, Timeout time.Duration
	Rise, Fall        int     // consecutive successes to come up, failures to go down
	Jitter            float64 // 0..1: fraction of Interval each wait varies by; also spreads the first probe
	InitialUp         bool    // start up instead of down until Rise successes
	Source            netip.Addr
	Port              uint16 // 0: the target's port

	// http and https
	Method, Path, Host string
	ExpectStatus       []StatusRange // empty: 200-399
	ExpectBody         string        // substring of the first 64 KiB
	SNI                string        // empty: Host, else none
	InsecureSkipVerify bool

	Payload   []byte // udp: sent each probe; empty: success unless ICMP unreachable
	AgentPort uint16 // agent: the port the agent listens on; 0: the check port

	// DSRPath adds a probe along the data path for l2dsr and l3dsr targets.
	DSRPath bool
}

// DefaultSpec returns the defaults a configuration starts from: a TCP
// connect every 2 s, 1 s timeout, up after 2 successes, down after 3
// failures, 20% jitter.
func DefaultSpec() Spec {
	return Spec{Kind: TCP, Interval: 2 * time.Second, Timeout: time.Second, Rise: 2, Fall: 3, Jitter: 0.2}
}

// Validate reports every problem with the spec.
func (s *Spec) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidSpec}, args...)...))
	}
	if _, err := ParseKind(string(s.Kind)); err != nil {
		errs = append(errs, err)
	}
	if s.Interval <= 0 {
		bad("interval %v must be positive", s.Interval)
	}
	if s.Timeout <= 0 || s.Timeout > s.Interval {
		bad("timeout %v must be positive and at most the interval %v", s.Timeout, s.Interval)
	}
	if s.Rise < 1 || s.Fall < 1 {
		bad("rise %d and fall %d must be at least 1", s.Rise, s.Fall)
	}
	if s.Jitter < 0 || s.Jitter > 1 {
		bad("jitter %v must be within 0..1", s.Jitter)
	}
	for _, r := range s.ExpectStatus {
		if r.Lo < 100 || r.Hi > 599 || r.Lo > r.Hi {
			bad("expected status %d-%d is not a range of HTTP codes", r.Lo, r.Hi)
		}
	}
	return errors.Join(errs...)
}
