// Package metrics exports the dataplane's counters and the control plane's state to
// Prometheus, on its own registry. Counters are read from the shared region at scrape
// time (a custom Collector), so a scrape always sees the lcores' current sums and nothing
// is copied in between.
package metrics
