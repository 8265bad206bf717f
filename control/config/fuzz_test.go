package config

import (
	"os"
	"testing"
)

// FuzzParse: no input may panic, and an accepted input must give a Config equal to itself.
func FuzzParse(f *testing.F) {
	for _, path := range []string{"../../configs/tenbin.yaml", "../../configs/lab.yaml"} {
		if data, err := os.ReadFile(path); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(withServices("  - {name: a, vip: 198.18.1.10, port: 0, mode: nat, backends: [null, 1, {name: b}]}\n")))
	f.Add([]byte("services: [1, [2], {}]\nlocal_pools: [{addresses: x}]\ndataplane: {ports: [{}, 3]}\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte(header + "x-a: &a {<<: *a}\nservices: [{<<: [*a, 1]}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("f.yaml", data)
		if err == nil && !cfg.Equal(cfg) {
			t.Errorf("config not equal to itself: %v", cfg.Diff(cfg))
		}
	})
}
