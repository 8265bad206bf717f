// Package config reads tenbin's YAML configuration.
//
// It parses strictly (unknown keys, wrong types and duplicate keys are errors), validates every
// field and every relation between fields, converts everything to checked types (netip.Addr,
// netip.Prefix, net.HardwareAddr, time.Duration, typed enums) and only then returns a *Config.
// Nothing in a returned Config needs checking again: an invalid file never yields a Config.
//
// Every problem is reported with file:line:col, and all problems are reported at once (as
// Errors), so an operator fixes a file in one round instead of one error per round.
//
// The documented example with every default is configs/tenbin.yaml; the defaults themselves
// live in defaults.go and nowhere else.
package config
