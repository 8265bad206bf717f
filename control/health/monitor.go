package health

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"time"
)

// Event reports a state change, at the moment the deciding probe returns.
type Event struct {
	Target   Target
	Old, New State
	Result   Result
	Time     time.Time
}

// Job is one target and how to check it.
type Job struct {
	Target Target
	Spec   Spec
}

// Monitor runs the checks of many targets, one goroutine each.
type Monitor struct {
	log        *slog.Logger
	onEvent    func(Event)
	newChecker func(Spec, Target) (Checker, error)

	mu     sync.Mutex
	probes map[string]*probe
	closed bool
	wg     sync.WaitGroup
}

// probe is one target's goroutine and its status.
type probe struct {
	job    Job
	cancel context.CancelFunc

	mu      sync.Mutex
	status  Status
	stopped bool // no result is recorded once set
}

// NewMonitor returns a Monitor that logs to log and calls onEvent on every
// state change, from the probing goroutine as soon as the deciding probe
// returns (so it should hand the event on rather than block).
func NewMonitor(log *slog.Logger, onEvent func(Event)) *Monitor {
	return &Monitor{log: log, onEvent: onEvent, newChecker: New, probes: map[string]*probe{}}
}

// ErrClosed is returned by Update after Close.
var ErrClosed = errors.New("health monitor closed")

// Update makes jobs the set of checked targets. Targets whose Key is
// unchanged keep their state and counters; if their spec or details
// changed, their checker is rebuilt. Targets not in jobs stop. Invalid jobs
// are skipped, logged and reported in the error; the rest are applied.
func (m *Monitor) Update(jobs []Job) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	var errs []error
	keep := map[string]bool{}
	for _, job := range jobs {
		key := job.Target.Key()
		keep[key] = true
		old := m.probes[key]
		if old != nil && reflect.DeepEqual(old.job, job) {
			continue
		}
		if err := job.Spec.Validate(); err != nil {
			errs = append(errs, err)
			m.log.Error("health check not started", "target", key, "err", err)
			continue
		}
		checker, err := m.newChecker(job.Spec, job.Target)
		if err != nil {
			errs = append(errs, err)
			m.log.Error("health check not started", "target", key, "err", err)
			continue
		}
		p := &probe{job: job}
		if old != nil {
			old.stop()
			p.status = old.snapshot()
			p.status.Target = job.Target
		} else {
			p.status = Status{Target: job.Target, Load: -1, Since: time.Now()}
			if job.Spec.InitialUp {
				p.status.State = StateUp
			}
		}
		m.probes[key] = p
		m.start(p, checker, old != nil)
	}
	for key, p := range m.probes {
		if !keep[key] {
			p.stop()
			delete(m.probes, key)
		}
	}
	return errors.Join(errs...)
}

// States returns every target's status, sorted by key.
func (m *Monitor) States() []Status {
	m.mu.Lock()
	keys := slices.Sorted(maps.Keys(m.probes))
	out := make([]Status, 0, len(keys))
	for _, k := range keys {
		out = append(out, m.probes[k].snapshot())
	}
	m.mu.Unlock()
	return out
}

// Close stops every check and waits for them.
func (m *Monitor) Close() {
	m.mu.Lock()
	m.closed = true
	for key, p := range m.probes {
		p.stop()
		delete(m.probes, key)
	}
	m.mu.Unlock()
	m.wg.Wait()
}

func (p *probe) snapshot() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

// stop cancels the goroutine; a probe already under way cannot record its
// result after this, so a replacement can take over the status. It does not
// wait, so an onEvent that calls back into the Monitor cannot deadlock.
func (p *probe) stop() {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.cancel()
}

func (m *Monitor) start(p *probe, checker Checker, restarted bool) {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.run(ctx, p, checker, restarted)
	}()
}

// run probes until ctx ends. The first probe waits a random part of
// Jitter x Interval so targets added together are not probed together;
// every later wait is Interval ± Jitter.
func (m *Monitor) run(ctx context.Context, p *probe, checker Checker, restarted bool) {
	spec := p.job.Spec
	wait := time.Duration(rand.Float64() * spec.Jitter * float64(spec.Interval))
	if restarted {
		wait = jittered(spec)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		cctx, cancel := context.WithTimeout(ctx, spec.Timeout)
		res := checker.Check(cctx)
		cancel()
		if ctx.Err() != nil {
			return // stopped mid-probe: the result says nothing about the target
		}
		m.record(p, res)
		timer.Reset(jittered(spec))
	}
}

func jittered(spec Spec) time.Duration {
	return time.Duration(float64(spec.Interval) * (1 + spec.Jitter*(2*rand.Float64()-1)))
}

func (m *Monitor) record(p *probe, res Result) {
	now := time.Now()
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	old, changed := p.status.observe(res, p.job.Spec.Rise, p.job.Spec.Fall, now)
	st := p.status
	p.mu.Unlock()
	if !changed {
		return
	}
	attrs := []any{"target", st.Target.Key(), "from", old.String(), "to", st.State.String(),
		"detail", res.Detail, "rtt", res.RTT}
	if res.Err != nil {
		attrs = append(attrs, "err", res.Err)
	}
	if st.State == StateDown {
		m.log.Warn("backend down", attrs...)
	} else {
		m.log.Info("backend "+st.State.String(), attrs...)
	}
	if m.onEvent != nil {
		m.onEvent(Event{Target: st.Target, Old: old, New: st.State, Result: res, Time: now})
	}
}
