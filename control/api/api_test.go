package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tenbin/control/config"
	"tenbin/control/daemon"
	"tenbin/control/shm"
)

// startDaemon runs an engine on a temporary region and serves it on a socket in a
// temporary directory; it returns the socket's path.
func startDaemon(t *testing.T) (string, *daemon.Engine) {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile("testdata/api.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "tenbin.yaml")
	os.WriteFile(cfgPath, data, 0o644)
	cfg, err := config.Parse(cfgPath, data)
	if err != nil {
		t.Fatal(err)
	}
	e, err := daemon.New(daemon.Options{
		Config: cfg, ConfigText: data, ConfigPath: cfgPath,
		RegionPath:   filepath.Join(dir, "region"),
		RegionParams: shm.Params{Lcores: 2, LUTCapacity: 1 << 18, FlowEntries: 1024},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	sock := filepath.Join(dir, "run", "tenbin.sock")
	l, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(e, nil)
	go srv.Serve(l)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return sock, e
}

func TestSocketIsOwnerOnlyAndNotStolen(t *testing.T) {
	sock, _ := startDaemon(t)
	st, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want a socket with 0600", st.Mode())
	}
	if _, err := Listen(sock); !errors.Is(err, ErrInUse) {
		t.Errorf("second daemon on a live socket: %v", err)
	}
	// A socket left behind by a daemon that died is replaced.
	stale := filepath.Join(t.TempDir(), "stale.sock")
	l, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	l2, err := Listen(stale)
	if err != nil {
		t.Fatalf("stale socket: %v", err)
	}
	l2.Close()
}

func TestReadEndpoints(t *testing.T) {
	sock, e := startDaemon(t)
	c := NewClient(sock)
	ctx := context.Background()

	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Control.PID != os.Getpid() || st.Publish.Generation != e.Generation() || st.Region.ActiveGeneration != e.Generation() ||
		st.Services != 1 || st.Backends != 2 || st.Up != 2 || st.Dataplane.Alive || st.Dataplane.HeartbeatAgeMs != -1 {
		t.Errorf("status %+v", st)
	}
	svcs, err := c.Services(ctx)
	if err != nil || len(svcs) != 1 || svcs[0].Name != "web" || svcs[0].LUTSize != 251 || len(svcs[0].Backends) != 2 {
		t.Fatalf("services %+v, %v", svcs, err)
	}
	if svcs[0].Scheduler != config.SchedMaglev || svcs[0].Backends[0].Health != "up" || svcs[0].Backends[0].Address.String() != "198.18.0.11" {
		t.Errorf("service web %+v", svcs[0])
	}
	if s, err := c.Service(ctx, "web"); err != nil || s.Key != "198.18.1.10 tcp/80" {
		t.Errorf("service web: %+v, %v", s, err)
	}
	bs, err := c.Backends(ctx, "web")
	if err != nil || len(bs) != 2 || bs[1].Name != "rs2" || bs[1].Service != "web" {
		t.Errorf("backends %+v, %v", bs, err)
	}
	if all, err := c.Backends(ctx, ""); err != nil || len(all) != 2 {
		t.Errorf("all backends %+v, %v", all, err)
	}
	stats, err := c.Stats(ctx)
	if err != nil || len(stats.Services) != 1 || len(stats.Services[0].Backends) != 2 {
		t.Fatalf("stats %+v, %v", stats, err)
	}
	if _, ok := stats.Drops["no_backend"]; !ok || len(stats.Global) != len(shm.CounterNames) {
		t.Errorf("stats lack counters: %+v", stats)
	}
	cv, err := c.Config(ctx)
	if err != nil || !strings.Contains(cv.YAML, "name: web") || !strings.HasSuffix(cv.File, "tenbin.yaml") {
		t.Errorf("config %+v, %v", cv, err)
	}
}

func TestErrorsAreJSON(t *testing.T) {
	sock, _ := startDaemon(t)
	c := NewClient(sock)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		call   func() error
		status int
		code   string
	}{
		{"unknown service", func() error { _, err := c.Service(ctx, "nope"); return err }, 404, CodeNotFound},
		{"backends of unknown service", func() error { _, err := c.Backends(ctx, "nope"); return err }, 404, CodeNotFound},
		{"unknown backend", func() error { _, err := c.BackendAction(ctx, "web", "nope", "drain"); return err }, 404, CodeNotFound},
		{"unknown action", func() error { _, err := c.BackendAction(ctx, "web", "rs1", "explode"); return err }, 404, CodeNotFound},
		{"weight out of range", func() error { _, err := c.SetWeight(ctx, "web", "rs1", 70000); return err }, 400, CodeBadRequest},
		{"weight without body", func() error { return c.do(ctx, "POST", "/v1/backends/web/rs1/weight", []byte("{}"), new(any)) }, 400, CodeBadRequest},
		{"wrong method", func() error { return c.do(ctx, "DELETE", "/v1/config", nil, new(any)) }, 405, CodeMethodNotAllowed},
		{"unknown path", func() error { return c.do(ctx, "GET", "/v2/everything", nil, new(any)) }, 404, CodeNotFound},
	} {
		err := tc.call()
		var ae *Error
		if !errors.As(err, &ae) || ae.Status != tc.status || ae.Code != tc.code || ae.Message == "" {
			t.Errorf("%s: %v (%+v), want %d %s", tc.name, err, ae, tc.status, tc.code)
		}
	}
	if _, err := NewClient(filepath.Join(t.TempDir(), "none.sock")).Status(ctx); !errors.Is(err, ErrUnreachable) {
		t.Errorf("no daemon: %v", err)
	}
}

func TestConfigApplyAndDiff(t *testing.T) {
	sock, e := startDaemon(t)
	c := NewClient(sock)
	ctx := context.Background()
	gen := e.Generation()

	_, err := c.Apply(ctx, "bad.yaml", []byte("services:\n  - name: web\n    vip: 198.18.1.300\n    weight: 1\n"))
	var ae *Error
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Code != CodeInvalidConfig || len(ae.Details) < 2 ||
		!strings.HasPrefix(ae.Details[0], "bad.yaml:") {
		t.Fatalf("invalid apply: %v (%+v)", err, ae)
	}
	if e.Generation() != gen {
		t.Error("an invalid configuration was published")
	}

	data, _ := os.ReadFile("testdata/api.yaml")
	next := []byte(strings.Replace(string(data), "{name: rs2, address: 198.18.0.12}", "{name: rs2, address: 198.18.0.12, weight: 10}", 1))
	d, err := c.Diff(ctx, "next.yaml", next)
	if err != nil || len(d.Changes) != 1 || d.Changes[0] != "~ backend web/rs2: weight 100 → 10" {
		t.Errorf("diff %q, %v", d.Changes, err)
	}
	if _, err := c.Diff(ctx, "bad.yaml", []byte("{")); !errors.As(err, &ae) || ae.Code != CodeInvalidConfig {
		t.Errorf("diff of a broken file: %v", err)
	}
	res, err := c.Apply(ctx, "next.yaml", next)
	if err != nil || res.Generation <= gen || len(res.Changes) != 1 {
		t.Fatalf("apply %+v, %v", res, err)
	}
	if bs, _ := c.Backends(ctx, "web"); bs[1].Configured != 10 {
		t.Errorf("rs2 after apply: %+v", bs[1])
	}
}

func TestBackendActions(t *testing.T) {
	sock, e := startDaemon(t)
	c := NewClient(sock)
	ctx := context.Background()
	check := func(what string, res ActionResult, err error, ok func(daemon.BackendView) bool) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if res.Generation != e.Generation() || res.Backend.Name != "rs1" || !ok(res.Backend) {
			t.Errorf("%s: %+v", what, res)
		}
	}
	res, err := c.BackendAction(ctx, "web", "rs1", "drain")
	check("drain", res, err, func(b daemon.BackendView) bool { return b.Drained && b.Weight == 0 && b.Present })
	res, err = c.BackendAction(ctx, "web", "rs1", "undrain")
	check("undrain", res, err, func(b daemon.BackendView) bool { return !b.Drained && b.Weight > 0 })
	res, err = c.SetWeight(ctx, "web", "rs1", 30)
	check("weight", res, err, func(b daemon.BackendView) bool { return b.Configured == 30 && b.Admin != nil && *b.Admin.Weight == 30 })
	res, err = c.BackendAction(ctx, "web", "rs1", "disable")
	check("disable", res, err, func(b daemon.BackendView) bool { return b.Disabled && !b.Present })
	res, err = c.BackendAction(ctx, "web", "rs1", "enable")
	check("enable", res, err, func(b daemon.BackendView) bool { return !b.Disabled && b.Present })
}
