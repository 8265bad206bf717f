// Package record is the raw result format every benchmark step writes and bench/report
// reads: one JSON object per line in the run's raw.jsonl, one line per measured run.
package record

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// Record is one run of one measurement, or the reason it could not be measured.
type Record struct {
	Part        string         `json:"part"` // pmd, virtio, scaling, memory, publish, maglev, fastpath
	Name        string         `json:"name"` // what ran, e.g. "testpmd macswap" or "tenbin l2dsr"
	Rep         int            `json:"rep,omitempty"`
	Value       float64        `json:"value"` // the run's figure (for rates: the median of its samples)
	Unit        string         `json:"unit,omitempty"`
	Samples     []float64      `json:"samples,omitempty"` // per-interval figures the value was taken from
	Extra       map[string]any `json:"extra,omitempty"`
	NotMeasured string         `json:"not_measured,omitempty"` // why there is no figure
}

// Append writes r as one line to the file at path (created when missing).
func Append(path string, r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("record: %w", err)
	}
	return f.Close()
}

// ErrBadLine marks a line of a raw file that is not a record.
var ErrBadLine = errors.New("not a benchmark record")

// Read returns every record of a raw file in order.
func Read(r io.Reader) ([]Record, error) {
	var out []Record
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return out, fmt.Errorf("line %d: %w: %v", n, ErrBadLine, err)
		}
		out = append(out, rec)
	}
	return out, sc.Err()
}

// Median is the middle value (the mean of the two middle ones for an even count), or 0.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Percentile is the nearest-rank p-th percentile (0 < p <= 100), or 0 for no values.
func Percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	i := int(p/100*float64(len(s))+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}
