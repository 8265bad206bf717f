package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"tenbin/control/config"
)

// ApplyResult says what an apply changed.
type ApplyResult struct {
	Generation uint64   `json:"generation"`
	Changes    []string `json:"changes"`
	Warnings   []string `json:"warnings,omitempty"`
}

// Reload re-reads the daemon's configuration file (SIGHUP). An invalid file changes nothing.
func (e *Engine) Reload() (*ApplyResult, error) {
	path := e.opts.ConfigPath
	if path == "" {
		return nil, fmt.Errorf("reload: the daemon was started without a configuration file")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reload: %w", err)
	}
	return e.apply(path, data, false)
}

// Apply validates data and, only if it is valid and publishes, makes it the running
// configuration and writes it to the daemon's configuration file (so a restart or a
// SIGHUP keeps it). A config.Errors error lists every problem; nothing changed then.
func (e *Engine) Apply(name string, data []byte) (*ApplyResult, error) {
	return e.apply(name, data, true)
}

// Diff reports what applying data would change, without applying it.
func (e *Engine) Diff(name string, data []byte) ([]string, error) {
	next, err := config.Parse(name, data)
	if err != nil {
		return nil, err
	}
	cur, _ := e.Config()
	return DiffConfigs(cur, next), nil
}

func (e *Engine) apply(name string, data []byte, persist bool) (*ApplyResult, error) {
	next, err := config.Parse(name, data)
	if err != nil {
		return nil, err
	}
	if e.opts.ConfigPath != "" {
		next.File = e.opts.ConfigPath
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	old, oldText, oldLoaded := e.cfg, e.cfgText, e.loadedAt
	res := &ApplyResult{Changes: DiffConfigs(old, next), Warnings: restartOnly(old, next)}
	e.cfg, e.cfgText, e.loadedAt = next, data, time.Now()
	gen, err := e.publish("apply")
	if err != nil {
		e.cfg, e.cfgText, e.loadedAt = old, oldText, oldLoaded
		return nil, fmt.Errorf("configuration not applied, the running one stays: %w", err)
	}
	res.Generation = gen
	e.pruneState()
	e.updateProber()
	if persist && e.opts.ConfigPath != "" {
		if err := writeFileAtomic(e.opts.ConfigPath, data); err != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("applied, but not saved (a restart reverts it): %v", err))
			e.log.Warn("applied configuration not saved", "path", e.opts.ConfigPath, "err", err)
		}
	}
	e.log.Info("configuration applied", "generation", gen, "changes", len(res.Changes))
	return res, nil
}

// restartOnly lists the changes that take effect only when the daemon restarts.
func restartOnly(old, next *config.Config) []string {
	var w []string
	if old.Dataplane.SHM != next.Dataplane.SHM {
		w = append(w, "dataplane.shm changed: takes effect when the daemon restarts")
	}
	if old.API.Socket != next.API.Socket {
		w = append(w, "api.socket changed: takes effect when the daemon restarts")
	}
	if old.Metrics.Listen != next.Metrics.Listen {
		w = append(w, "metrics.listen changed: takes effect when the daemon restarts")
	}
	return w
}

// writeFileAtomic replaces path with data so a reader sees the old or the new file, never
// half of one, even across a crash.
func writeFileAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
