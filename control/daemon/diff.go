package daemon

import "tenbin/control/config"

// DiffConfigs lists what changes from old to next, one line each, in the file's terms
// ("+ service web", "- backend web/rs3", "~ backend web/rs1: weight 100 → 50"); config.Diff
// does the comparing, matching services and backends by name.
func DiffConfigs(old, next *config.Config) []string {
	changes := next.Diff(old)
	out := make([]string, len(changes))
	for i, c := range changes {
		out[i] = c.String()
	}
	return out
}
