package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
)

// fastpathRow is a result row of `go run ./bench/fastpath`:
// case, flows, Mpps, ns/pkt, min, max | cpu Mpps, cpu ns, on-cpu%.
var fastpathRow = regexp.MustCompile(`^(\S+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)(?:\s+\|\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)%)?`)

// ParseFastpath turns bench/fastpath's table into benchmarks named "<case>/flows=<n>", with
// the program's medians as they are (it runs its own trials).
func ParseFastpath(r io.Reader) []*GoBench {
	var out []*GoBench
	units := []string{"", "", "", "Mpps", "ns/pkt", "min Mpps", "max Mpps", "cpu Mpps", "cpu ns/pkt", "on-cpu %"}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := fastpathRow.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		b := &GoBench{Name: fmt.Sprintf("%s/flows=%s", m[1], m[2]), Runs: 1, Values: map[string][]float64{}, Medians: map[string]float64{}}
		for i := 3; i < len(m); i++ {
			if v, err := strconv.ParseFloat(m[i], 64); err == nil && m[i] != "" {
				b.Medians[units[i]] = v
				b.Values[units[i]] = []float64{v}
			}
		}
		out = append(out, b)
	}
	return out
}
