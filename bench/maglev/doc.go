// Package maglevbench compares tenbin's Maglev table builder
// (tenbin/control/maglev) with github.com/kkdai/maglev in one benchmark run;
// see README.md for how to run it and the figures measured.
package maglevbench
