package main

import (
	"bufio"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// PortRates are one testpmd port's periodic throughput samples (--stats-period), in packets
// per second, in the order testpmd printed them.
type PortRates struct {
	RxPPS, TxPPS []float64
	// Totals from the "Forward statistics" testpmd prints when it stops. TxDropped counts
	// packets the port refused (a full ring): a generator whose TxDropped is 0 was the
	// bottleneck itself.
	RxPackets, RxDropped, TxPackets, TxDropped uint64
}

var (
	portHeader = regexp.MustCompile(`(NIC|Forward) statistics for port (\d+)`)
	totalsLine = regexp.MustCompile(`^\s*(RX|TX)-packets:\s+(\d+)\s+(RX|TX)-dropped:\s+(\d+)`)
	ppsLine    = regexp.MustCompile(`^\s*(Rx|Tx)-pps:\s+(\d+)`)
)

// ParseTestpmdStats reads testpmd's periodic "NIC statistics for port N" blocks and its
// closing "Forward statistics" and returns every port's Rx-pps and Tx-pps samples and totals. The screen-clearing escapes testpmd prints
// between blocks are ignored.
func ParseTestpmdStats(r io.Reader) map[int]*PortRates {
	out := map[int]*PortRates{}
	cur := -1
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := portHeader.FindStringSubmatch(line); m != nil {
			cur, _ = strconv.Atoi(m[2])
			if out[cur] == nil {
				out[cur] = &PortRates{}
			}
			continue
		}
		if strings.Contains(line, "Accumulated forward statistics") {
			cur = -1 // the sum over ports follows, not one port's
			continue
		}
		if m := totalsLine.FindStringSubmatch(line); m != nil && cur >= 0 {
			n, _ := strconv.ParseUint(m[2], 10, 64)
			d, _ := strconv.ParseUint(m[4], 10, 64)
			if m[1] == "RX" {
				out[cur].RxPackets, out[cur].RxDropped = n, d
			} else {
				out[cur].TxPackets, out[cur].TxDropped = n, d
			}
			continue
		}
		m := ppsLine.FindStringSubmatch(line)
		if m == nil || cur < 0 {
			continue
		}
		v, _ := strconv.ParseFloat(m[2], 64)
		if m[1] == "Rx" {
			out[cur].RxPPS = append(out[cur].RxPPS, v)
		} else {
			out[cur].TxPPS = append(out[cur].TxPPS, v)
		}
	}
	return out
}
