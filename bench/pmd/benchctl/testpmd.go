package main

import (
	"bufio"
	"io"
	"regexp"
	"strconv"
)

// PortRates are one testpmd port's periodic throughput samples (--stats-period), in packets
// per second, in the order testpmd printed them.
type PortRates struct {
	RxPPS, TxPPS []float64
}

var (
	portHeader = regexp.MustCompile(`NIC statistics for port (\d+)`)
	ppsLine    = regexp.MustCompile(`^\s*(Rx|Tx)-pps:\s+(\d+)`)
)

// ParseTestpmdStats reads testpmd's periodic "NIC statistics for port N" blocks and returns
// every port's Rx-pps and Tx-pps samples. The screen-clearing escapes testpmd prints
// between blocks are ignored.
func ParseTestpmdStats(r io.Reader) map[int]*PortRates {
	out := map[int]*PortRates{}
	cur := -1
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := portHeader.FindStringSubmatch(line); m != nil {
			cur, _ = strconv.Atoi(m[1])
			if out[cur] == nil {
				out[cur] = &PortRates{}
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
