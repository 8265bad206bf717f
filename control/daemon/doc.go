// Package daemon is the engine of `tenbin control`: it turns the running configuration,
// backend health, operator overrides and dataplane feedback into the tables of the shared
// region, and publishes them whenever one of those changes.
//
// The translation itself is a pure function (Builder.Build in desired.go): the same inputs
// give the same *shm.Desired, so it is unit-tested without a region, and a restarted
// daemon with the same configuration publishes byte-identical tables. Maglev tables are
// cached per service by their inputs, so a change rebuilds only the services it touches.
//
// The Engine (engine.go) owns the state and the publishing: at start, on Reload/Apply
// (validated first: an invalid configuration never replaces the running one), at once on a
// health state change or an operator change, and every second for feedback schedulers when
// their weights moved. It writes the control heartbeat every 100 ms and re-attaches when
// the dataplane recreates the region.
package daemon
