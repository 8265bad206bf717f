package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"tenbin/control/config"
	"tenbin/control/health"
	"tenbin/control/shm"
)

// Errors the API maps to HTTP statuses.
var (
	ErrNoService = errors.New("no such service")
	ErrNoBackend = errors.New("no such backend")
	ErrClosed    = errors.New("engine closed")
)

// publishTimeout bounds one publish, including the wait for the lcores.
const publishTimeout = 5 * time.Second

// Options configure an Engine. Config is required; the rest has defaults.
type Options struct {
	Config     *config.Config
	ConfigText []byte // the file's text, shown by GET /v1/config
	// ConfigPath is the file Reload reads and Apply saves to; "" = neither.
	ConfigPath string
	// RegionPath overrides Config.Dataplane.SHM (itself defaulting to shm.DefaultPath()).
	RegionPath string
	// RegionParams size a region the daemon has to create (no dataplane has yet).
	RegionParams shm.Params
	Logger       *slog.Logger
	// NewProber starts the health checks; nil uses health.NewMonitor.
	NewProber func(log *slog.Logger, onEvent func(health.Event)) Prober
	// ObservePublish, if set, is told how long each successful publish took.
	ObservePublish func(time.Duration)
	HeartbeatEvery time.Duration // control heartbeat and region watch; default 100 ms
	FeedbackEvery  time.Duration // feedback schedulers and slow start; default 1 s
}

// Prober runs the health checks. *health.Monitor is one; tests use a fake they drive.
type Prober interface {
	Update(jobs []health.Job) error
	States() []health.Status
	Close()
}

// Engine owns the running configuration and publishes it into the shared region.
type Engine struct {
	log   *slog.Logger
	opts  Options
	start time.Time
	kick  chan struct{} // a health event is pending
	done  chan struct{} // closed by Close

	// mu serialises every change and publish.
	mu       sync.Mutex
	cfg      *config.Config
	cfgText  []byte
	loadedAt time.Time
	builder  *Builder
	prober   Prober
	health   map[BackendKey]Health
	pending  map[BackendKey]health.Event // from the prober's goroutines, under pendingMu
	changes  map[BackendKey]StateChanges // every state change reported, under pendingMu
	admin    map[BackendKey]Admin
	feedback map[BackendKey]Feedback
	weights  map[string]map[string]uint32
	lastUp   map[string]map[string]uint32
	adopted  map[BackendKey]bool // up in the set a previous daemon published
	last     *Result
	pub      publishInfo
	closed   bool

	pendingMu sync.Mutex

	// regionMu guards the region, which a dataplane restart replaces; hold mu first.
	regionMu sync.RWMutex
	reg      *attachedRegion

	// view is what readers see without waiting for a publish in progress.
	view           atomic.Pointer[snapshot]
	healthView     atomic.Pointer[map[BackendKey]Health]
	lastPublishErr atomic.Pointer[error]

	prevBytes   map[BackendKey]uint64
	prevBytesAt time.Time
}

// snapshot is the state of the last publish, for readers.
type snapshot struct {
	result   *Result
	pub      publishInfo
	file     string
	loadedAt time.Time
}

type publishInfo struct {
	Generation uint64
	At         time.Time
	Duration   time.Duration
	Count      uint64
}

// storeHealth publishes the health map to readers. Hold mu.
func (e *Engine) storeHealth() {
	h := maps.Clone(e.health)
	e.healthView.Store(&h)
}

func (e *Engine) healthSnapshot() map[BackendKey]Health {
	if h := e.healthView.Load(); h != nil {
		return *h
	}
	return nil
}

// New attaches to the region, adopts what a previous daemon published, publishes the
// configuration and starts the health checks. Call Run to keep it going, Close to stop.
func New(opts Options) (*Engine, error) {
	if opts.Config == nil {
		return nil, errors.New("daemon: no configuration")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.RegionParams == (shm.Params{}) {
		opts.RegionParams = shm.DefaultParams()
	}
	if opts.NewProber == nil {
		opts.NewProber = func(log *slog.Logger, onEvent func(health.Event)) Prober {
			return health.NewMonitor(log, onEvent)
		}
	}
	opts.HeartbeatEvery = cmpOr(opts.HeartbeatEvery, 100*time.Millisecond)
	opts.FeedbackEvery = cmpOr(opts.FeedbackEvery, time.Second)
	e := &Engine{
		log:      opts.Logger,
		opts:     opts,
		start:    time.Now(),
		kick:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		cfg:      opts.Config,
		cfgText:  opts.ConfigText,
		loadedAt: time.Now(),
		builder:  NewBuilder(),
		health:   map[BackendKey]Health{},
		pending:  map[BackendKey]health.Event{},
		changes:  map[BackendKey]StateChanges{},
		admin:    map[BackendKey]Admin{},
		feedback: map[BackendKey]Feedback{},
		weights:  map[string]map[string]uint32{},
		lastUp:   map[string]map[string]uint32{},
	}
	reg, err := attach(e.regionPath(), opts.RegionParams)
	if err != nil {
		return nil, err
	}
	e.reg = reg
	e.adopt()
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, err := e.publish("start"); err != nil {
		reg.close()
		return nil, err
	}
	e.prober = opts.NewProber(e.log, e.onHealthEvent)
	e.updateProber()
	return e, nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (e *Engine) regionPath() string {
	if e.opts.RegionPath != "" {
		return e.opts.RegionPath
	}
	if e.cfg.Dataplane.SHM != "" {
		return e.cfg.Dataplane.SHM
	}
	return shm.DefaultPath()
}

// Run writes heartbeats, follows the region, publishes health changes at once and
// feedback weights every period, until ctx ends.
func (e *Engine) Run(ctx context.Context) error {
	hb := time.NewTicker(e.opts.HeartbeatEvery)
	defer hb.Stop()
	fb := time.NewTicker(e.opts.FeedbackEvery)
	defer fb.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-e.done:
			return ErrClosed
		case <-hb.C:
			e.heartbeat()
		case <-e.kick:
			e.applyHealthEvents()
		case <-fb.C:
			e.feedbackTick()
		}
	}
}

// Close stops the health checks and detaches from the region. The region and the tables
// in it stay: the dataplane keeps forwarding.
func (e *Engine) Close() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	close(e.done)
	prober := e.prober
	e.mu.Unlock()
	if prober != nil {
		prober.Close()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.regionMu.Lock()
	defer e.regionMu.Unlock()
	e.reg.close()
}

// publish builds the tables from the current state and publishes them. Hold mu.
func (e *Engine) publish(why string) (uint64, error) {
	res, err := e.builder.Build(e.inputs())
	if err != nil {
		return 0, fmt.Errorf("build tables: %w", err)
	}
	return e.publishResult(res, why)
}

// publishIfChanged publishes only if the tables differ from the last published ones (a
// health event of a backend without checks, draining a drained backend, ...); the views
// are refreshed either way. It returns the generation the dataplane has. Hold mu.
func (e *Engine) publishIfChanged(why string) (uint64, error) {
	res, err := e.builder.Build(e.inputs())
	if err != nil {
		return 0, fmt.Errorf("build tables: %w", err)
	}
	if e.last == nil || !reflect.DeepEqual(res.Desired, e.last.Desired) {
		return e.publishResult(res, why)
	}
	e.last, e.weights, e.lastUp = res, res.Weights, res.LastUp
	e.storeHealth()
	e.view.Store(&snapshot{result: res, pub: e.pub, file: e.cfg.File, loadedAt: e.loadedAt})
	return e.pub.Generation, nil
}

func (e *Engine) inputs() Inputs {
	return Inputs{
		Config:   e.cfg,
		Health:   e.health,
		Admin:    e.admin,
		Feedback: e.feedback,
		Prev:     e.weights,
		LastUp:   e.lastUp,
		Now:      time.Now(),
	}
}

func (e *Engine) publishResult(res *Result, why string) (uint64, error) {
	e.regionMu.RLock()
	defer e.regionMu.RUnlock()
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	start := time.Now()
	gen, err := e.reg.writer.Publish(ctx, res.Desired)
	took := time.Since(start)
	if err != nil && !errors.Is(err, shm.ErrQuiesce) {
		e.lastPublishErr.Store(&err)
		e.log.Error("publish failed; the dataplane keeps the previous tables", "why", why, "err", err)
		return 0, fmt.Errorf("publish: %w", err)
	}
	if err != nil {
		// The new set is active; an lcore that is alive but stuck has not moved yet.
		e.log.Warn("published, but an lcore has not caught up", "generation", gen, "err", err)
	}
	e.last, e.weights, e.lastUp = res, res.Weights, res.LastUp
	e.pub = publishInfo{Generation: gen, At: time.Now(), Duration: took, Count: e.pub.Count + 1}
	e.lastPublishErr.Store(nil)
	e.storeHealth()
	e.reg.learnSlots(res)
	e.view.Store(&snapshot{result: res, pub: e.pub, file: e.cfg.File, loadedAt: e.loadedAt})
	if e.opts.ObservePublish != nil {
		e.opts.ObservePublish(took)
	}
	var rebuilt []string
	for _, s := range res.Services {
		if s.Rebuilt {
			rebuilt = append(rebuilt, s.Name)
		}
	}
	e.log.Info("published", "why", why, "generation", gen, "took", took, "rebuilt", rebuilt)
	return gen, nil
}

// heartbeat stamps the control heartbeat and re-attaches if the dataplane recreated the
// region (its file is a new inode): the new region gets the current tables at once.
func (e *Engine) heartbeat() {
	e.regionMu.RLock()
	e.reg.beat()
	replaced := e.reg.replaced()
	e.regionMu.RUnlock()
	if !replaced {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	reg, err := attach(e.reg.path, e.opts.RegionParams)
	if err != nil {
		e.log.Warn("region was replaced but cannot be attached yet", "path", e.reg.path, "err", err)
		return
	}
	e.regionMu.Lock()
	old := e.reg
	e.reg = reg
	e.regionMu.Unlock()
	old.close()
	e.log.Info("dataplane recreated the region; republishing", "path", reg.path)
	if _, err := e.publish("region recreated"); err != nil {
		e.log.Error("republish into the new region failed", "err", err)
	}
	e.regionMu.RLock()
	e.reg.beat()
	e.regionMu.RUnlock()
}

// Generation is the generation of the last successful publish.
func (e *Engine) Generation() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pub.Generation
}

// Config returns the running configuration and its text. Treat both as read-only.
func (e *Engine) Config() (*config.Config, []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cfg, e.cfgText
}

// adopt takes over what a previous daemon left in the active set: backends it published
// as present with weight start up, so a restart with the same configuration publishes
// the same tables (health checks then confirm or correct them).
func (e *Engine) adopt() {
	present := e.reg.presentBackends()
	e.adopted = map[BackendKey]bool{}
	for _, s := range e.cfg.Services {
		for _, b := range s.Backends {
			if present[addrKey{s.Name, b.Address.Unmap(), b.Port}] {
				k := BackendKey{s.Name, b.Name}
				e.adopted[k] = true
				e.health[k] = Health{State: health.StateUp, Load: -1}
			}
		}
	}
	if len(e.adopted) > 0 {
		e.log.Info("adopted the running tables", "backends_up", len(e.adopted))
	}
}
