// Package e2e holds tenbin's end-to-end tests: a client, the balancer (bin/tenbin-dataplane on
// veths through net_af_packet, bin/tenbin control beside it) and three real HTTP servers, each
// in its own network namespace, brought up once for the package by scripts/lab.sh.
//
// They need root and the binaries `make build` writes to bin/ (or $TENBIN_BIN); without either every test skips
// and says why. `go test -short` skips them too. `make test` runs them.
package e2e
