package record

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAppendedRecordsReadBackInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raw.jsonl")
	in := []Record{
		{Part: "pmd", Name: "testpmd io", Rep: 1, Value: 7.5, Unit: "Mpps", Samples: []float64{7, 7.5, 8}},
		{Part: "pmd", Name: "tenbin l2dsr", NotMeasured: "bin/tenbin-dataplane does not start"},
	}
	for _, r := range in {
		if err := Append(path, r); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out, err := Read(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].Value != 7.5 || len(out[0].Samples) != 3 || out[1].NotMeasured == "" {
		t.Fatalf("read back %+v", out)
	}
}

func TestReadNamesTheBadLine(t *testing.T) {
	_, err := Read(strings.NewReader(`{"part":"pmd"}` + "\n" + "Benchmark garbage\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err = %v, want one naming line 2", err)
	}
}

func TestMedianAndPercentile(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := Median(c.in); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	v := []float64{10, 1, 9, 2, 8, 3, 7, 4, 6, 5}
	if p := Percentile(v, 50); p != 5 {
		t.Errorf("p50 = %v, want 5", p)
	}
	if p := Percentile(v, 99); p != 10 {
		t.Errorf("p99 = %v, want 10", p)
	}
}
