package realserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
)

// Record is what setup changed on this host, kept in the state file so teardown undoes exactly
// that and nothing else. Setup run again merges into it: an address or table already recorded
// stays recorded once, and a sysctl keeps the value it had before the first setup.
type Record struct {
	Version   int               `json:"version"`
	Addresses []RecordedAddress `json:"addresses,omitempty"`
	Sysctls   []RecordedSysctl  `json:"sysctls,omitempty"`
	Tables    []NftTable        `json:"nft_tables,omitempty"`
}

// RecordedAddress is an address setup added.
type RecordedAddress struct {
	Dev    string       `json:"dev"`
	Prefix netip.Prefix `json:"prefix"`
}

// RecordedSysctl is a sysctl setup changed: Previous is restored on teardown, but only while the
// value is still Set (someone changing it since has the last word).
type RecordedSysctl struct {
	Key      string `json:"key"`
	Previous string `json:"previous"`
	Set      string `json:"set"`
}

const recordVersion = 1

// LoadRecord reads the state file; a missing file is an empty record (nothing to undo).
func LoadRecord(path string) (Record, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Record{Version: recordVersion}, nil
	}
	if err != nil {
		return Record{}, fmt.Errorf("read state: %w", err)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return Record{}, fmt.Errorf("%w: %s: %v", ErrStateCorrupt, path, err)
	}
	if r.Version != recordVersion {
		return Record{}, fmt.Errorf("%w: %s: version %d, want %d", ErrStateCorrupt, path, r.Version, recordVersion)
	}
	return r, nil
}

// Save writes the record by temp file, fsync and rename, so a crash leaves the old or the new
// record, never half of one.
func (r Record) Save(path string) error {
	r.Version = recordVersion
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	f, err := os.CreateTemp(dir, ".realserver-*.json")
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	defer os.Remove(f.Name()) // no-op after the rename
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("save state: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("save state: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

// Empty reports whether there is nothing to undo.
func (r Record) Empty() bool {
	return len(r.Addresses) == 0 && len(r.Sysctls) == 0 && len(r.Tables) == 0
}

// note adds an applied setup change to the record.
func (r *Record) note(c Change) {
	switch c.Action {
	case ActionAddAddress:
		a := RecordedAddress{Dev: c.Dev, Prefix: c.Prefix}
		if !slices.Contains(r.Addresses, a) {
			r.Addresses = append(r.Addresses, a)
		}
	case ActionSetSysctl:
		for i := range r.Sysctls {
			if r.Sysctls[i].Key == c.Key {
				r.Sysctls[i].Set = c.To
				return
			}
		}
		r.Sysctls = append(r.Sysctls, RecordedSysctl{Key: c.Key, Previous: c.From, Set: c.To})
	case ActionReplaceTable:
		if !slices.Contains(r.Tables, c.Table) {
			r.Tables = append(r.Tables, c.Table)
		}
	}
}

// forget drops what an applied teardown change undid.
func (r *Record) forget(c Change) {
	switch c.Action {
	case ActionDeleteAddress:
		r.Addresses = slices.DeleteFunc(r.Addresses, func(a RecordedAddress) bool { return a.Dev == c.Dev && a.Prefix == c.Prefix })
	case ActionSetSysctl:
		r.Sysctls = slices.DeleteFunc(r.Sysctls, func(s RecordedSysctl) bool { return s.Key == c.Key })
	case ActionDeleteTable:
		r.Tables = slices.DeleteFunc(r.Tables, func(t NftTable) bool { return t == c.Table })
	}
}
