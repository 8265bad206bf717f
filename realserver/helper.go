package realserver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
)

// Host is what setup, teardown and check act on: the kernel (Kernel) or, in tests, a fake.
type Host interface {
	Observe(ctx context.Context) (Observed, error)
	Apply(ctx context.Context, c Change) error
}

// Options are shared by Setup and Teardown.
type Options struct {
	StatePath string // DefaultStatePath when empty
	DryRun    bool   // plan only: change nothing, write no state
	Log       *slog.Logger
}

func (o Options) statePath() string {
	if o.StatePath == "" {
		return DefaultStatePath
	}
	return o.StatePath
}

func (o Options) log() *slog.Logger {
	if o.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Log
}

// Result is what a setup or teardown did (or, in a dry run, would do).
type Result struct {
	Changes []Change
	// Findings are problems setup could not fix by itself (a VIP on another interface, a
	// DSCP rule in someone else's table, ...), found by checking again afterwards.
	Findings []Finding
	// Kept are teardown's notes on sysctls changed by someone else since setup, left alone.
	Kept []string
}

// Setup brings the host to spec and records every change in the state file, merging with what
// an earlier setup recorded. The record is saved after each change, so a failure half-way still
// leaves teardown able to undo what was done.
func Setup(ctx context.Context, h Host, spec Spec, opt Options) (Result, error) {
	log := opt.log()
	rec, err := LoadRecord(opt.statePath())
	if err != nil {
		return Result{}, err
	}
	o, err := h.Observe(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("setup: %w", err)
	}
	changes, err := PlanSetup(spec, o)
	if err != nil {
		return Result{}, fmt.Errorf("setup: %w", err)
	}
	res := Result{Changes: changes}
	if opt.DryRun {
		return res, nil
	}
	if res.Changes, err = applyRecorded(ctx, h, changes, &rec, (*Record).note, opt.statePath(), log); err != nil {
		return res, fmt.Errorf("setup: %w", err)
	}
	if o, err = h.Observe(ctx); err != nil {
		return res, fmt.Errorf("setup: check afterwards: %w", err)
	}
	res.Findings = Diagnose(spec, o)
	return res, nil
}

// Teardown undoes what the state file says setup did and removes the file once nothing is left
// to undo. With no state file it does nothing, so running it twice is harmless.
func Teardown(ctx context.Context, h Host, opt Options) (Result, error) {
	log := opt.log()
	path := opt.statePath()
	rec, err := LoadRecord(path)
	if err != nil {
		return Result{}, err
	}
	if rec.Empty() {
		return Result{}, removeState(path, opt.DryRun)
	}
	o, err := h.Observe(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("teardown: %w", err)
	}
	changes, kept := PlanTeardown(rec, o)
	res := Result{Changes: changes, Kept: kept}
	if opt.DryRun {
		return res, nil
	}
	for _, k := range kept {
		log.Warn("realserver teardown", "kept", k)
	}
	if res.Changes, err = applyRecorded(ctx, h, changes, &rec, (*Record).forget, path, log); err != nil {
		return res, fmt.Errorf("teardown: %w", err)
	}
	// What was already gone, and sysctls someone else changed, are no longer ours to undo.
	return res, removeState(path, false)
}

// applyRecorded applies changes in order and saves the record, updated by each change, after
// each one, so a failure half-way leaves a record of exactly what was done. It returns the
// changes applied.
func applyRecorded(ctx context.Context, h Host, changes []Change, rec *Record, update func(*Record, Change), path string, log *slog.Logger) ([]Change, error) {
	for i, c := range changes {
		if err := h.Apply(ctx, c); err != nil {
			return changes[:i], err
		}
		log.Info("realserver", "change", c.String())
		update(rec, c)
		if err := rec.Save(path); err != nil {
			return changes[:i+1], fmt.Errorf("%s done but not recorded: %w", c, err)
		}
	}
	return changes, nil
}

func removeState(path string, dryRun bool) error {
	if dryRun {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove state: %w", err)
	}
	return nil
}

// Check observes the host and diagnoses it against spec.
func Check(ctx context.Context, h Host, spec Spec) ([]Finding, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	o, err := h.Observe(ctx)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	return Diagnose(spec, o), nil
}
