package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// ErrNoGnuplot means gnuplot is not installed (run.sh installs gnuplot-nox).
var ErrNoGnuplot = errors.New("gnuplot not found (apt-get install gnuplot-nox)")

// bar is one bar of a Mpps chart.
type bar struct {
	label         string
	med, min, max float64
}

// barChart draws bars with min–max whiskers into png.
func barChart(png, title, ylabel string, bars []bar) error {
	if len(bars) == 0 {
		return nil
	}
	var data strings.Builder
	for i, b := range bars {
		fmt.Fprintf(&data, "%d %q %g %g %g\n", i, b.label, b.med, b.min, b.max)
	}
	script := fmt.Sprintf(`set terminal pngcairo size 960,480 font ",10" noenhanced
set output %q
set title %q
set ylabel %q
set yrange [0:*]
set boxwidth 0.6
set style fill solid 0.6 border -1
set grid ytics
set xtics rotate by -20
unset key
plot $data using 1:3:xtic(2) with boxes lc rgb "#4878a8", \
     $data using 1:3:4:5 with yerrorbars lc rgb "black" pt 0, \
     $data using 1:3:(sprintf("%%.2f", $3)) with labels offset 0,1
`, png, title, ylabel)
	return gnuplot("$data << EOD\n" + data.String() + "EOD\n" + script)
}

var nm = regexp.MustCompile(`N=(\d+)/M=(\d+)/impl=(\w+)`)

// maglevChart draws build time against N, one line per implementation and table size: the
// size curve of the control plane.
func maglevChart(png string, bs []*GoBench) error {
	type key struct {
		impl string
		m    int
	}
	series := map[key][][2]float64{}
	for _, b := range bs {
		s := nm.FindStringSubmatch(b.Name)
		v, ok := b.Medians["ns/op"]
		if s == nil || !ok {
			continue
		}
		n, _ := strconv.Atoi(s[1])
		m, _ := strconv.Atoi(s[2])
		k := key{s[3], m}
		series[k] = append(series[k], [2]float64{float64(n), v / 1e6})
	}
	if len(series) == 0 {
		return nil
	}
	keys := make([]key, 0, len(series))
	for k := range series {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].impl != keys[j].impl {
			return keys[i].impl > keys[j].impl
		}
		return keys[i].m < keys[j].m
	})
	var data, plots strings.Builder
	for i, k := range keys {
		pts := series[k]
		sort.Slice(pts, func(a, b int) bool { return pts[a][0] < pts[b][0] })
		fmt.Fprintf(&data, "$s%d << EOD\n", i)
		for _, p := range pts {
			fmt.Fprintf(&data, "%g %g\n", p[0], p[1])
		}
		data.WriteString("EOD\n")
		if i > 0 {
			plots.WriteString(", ")
		}
		fmt.Fprintf(&plots, "$s%d with linespoints title %q", i, fmt.Sprintf("%s M=%d", k.impl, k.m))
	}
	script := fmt.Sprintf(`set terminal pngcairo size 960,480 font ",10" noenhanced
set output %q
set title "Maglev table build time (wall, median)"
set xlabel "backends N"
set ylabel "ms per build"
set logscale xy
set grid
set key left top
plot %s
`, png, plots.String())
	return gnuplot(data.String() + script)
}

func gnuplot(script string) error {
	path, err := exec.LookPath("gnuplot")
	if err != nil {
		return ErrNoGnuplot
	}
	cmd := exec.Command(path)
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("gnuplot: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// drawPlots draws every chart the run has data for into dir and returns their file names.
func (r *Report) drawPlots(dir string) ([]string, error) {
	bars := func(parts []string, names ...string) []bar {
		var out []bar
		for _, n := range names {
			for _, part := range parts {
				if f := find(r.Figures, part, n); f.Measured() {
					out = append(out, bar{n, f.Median, f.Min, f.Max})
				}
			}
		}
		return out
	}
	var made []string
	charts := []struct {
		part string
		draw func(png string) error
	}{
		{"pmd", func(png string) error {
			return barChart(png, "Through PMDs: net_pcap (1024 flows, 64 B) → net_null, Mpps per run (median, min–max)", "Mpps",
				bars([]string{"pmd", "scaling"}, "testpmd io", "testpmd macswap", "tenbin passthrough", "tenbin l2dsr",
					"tenbin l3dsr", natPMDBase, "tenbin nat", "tenbin fnat", "tenbin l2dsr 2 lcores", "testpmd io 2 cores"))
		}},
		{"virtio", func(png string) error {
			return barChart(png, "Virtio lab: Mpps received by the sink, per middle (median, min–max)", "Mpps",
				bars([]string{"virtio"}, "testpmd io", "tenbin passthrough", "tenbin l2dsr"))
		}},
		{"maglev", func(png string) error { return maglevChart(png, r.GoBench["maglev"]) }},
	}
	for _, c := range charts {
		name := r.Stamp + "-" + c.part + ".png"
		png := filepath.Join(dir, name)
		os.Remove(png)
		if err := c.draw(png); err != nil {
			return made, err
		}
		if _, err := os.Stat(png); err == nil {
			made = append(made, name)
		}
	}
	return made, nil
}
