package realserver

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestSetupTwiceIsOnceAndTeardownRestores(t *testing.T) {
	ctx := context.Background()
	state := filepath.Join(t.TempDir(), "run", "realserver.json")
	opt := Options{StatePath: state}
	h := freshHost()
	before, _ := h.Observe(ctx)
	spec := l3dsrSpec(vip("198.18.0.10", 0x22), vip("2001:db8::10", 0x22))

	res, err := Setup(ctx, h, spec, opt)
	if err != nil || len(res.Changes) == 0 || len(res.Findings) != 0 {
		t.Fatalf("first setup: %d changes, findings %+v, err %v", len(res.Changes), res.Findings, err)
	}
	recorded, _ := os.ReadFile(state)
	res, err = Setup(ctx, h, spec, opt)
	if err != nil || len(res.Changes) != 0 {
		t.Fatalf("second setup: changes %q, err %v; want none", changeLines(res.Changes), err)
	}
	if again, _ := os.ReadFile(state); string(again) != string(recorded) {
		t.Errorf("second setup rewrote the record:\n%s\nwas\n%s", again, recorded)
	}

	// A later setup in the other mode adds to the record; teardown undoes both.
	if _, err := Setup(ctx, h, Spec{Mode: ModeL2DSR, VIPs: []VIP{vip("198.18.0.12", 0)}}, opt); err != nil {
		t.Fatal(err)
	}
	res, err = Teardown(ctx, h, opt)
	if err != nil || len(res.Changes) == 0 {
		t.Fatalf("teardown: %q, %v", changeLines(res.Changes), err)
	}
	after, _ := h.Observe(ctx)
	if !reflect.DeepEqual(normalized(after), normalized(before)) {
		t.Errorf("teardown left the host different:\n%+v\nwas\n%+v", after, before)
	}
	if _, err := os.Stat(state); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("state file still there after teardown: %v", err)
	}
	n := len(h.applied)
	if res, err := Teardown(ctx, h, opt); err != nil || len(res.Changes) != 0 || len(h.applied) != n {
		t.Errorf("second teardown: %q, %v; want nothing", changeLines(res.Changes), err)
	}
}

// normalized makes an emptied list and one never filled compare equal.
func normalized(o Observed) Observed {
	o.NftTables = append([]NftTable{}, o.NftTables...)
	o.NftRules = append([]NftRule{}, o.NftRules...)
	return o
}

func TestDryRunChangesNothing(t *testing.T) {
	ctx := context.Background()
	state := filepath.Join(t.TempDir(), "realserver.json")
	h := freshHost()
	spec := Spec{Mode: ModeL2DSR, VIPs: []VIP{vip("198.18.0.10", 0)}}
	res, err := Setup(ctx, h, spec, Options{StatePath: state, DryRun: true})
	if err != nil || len(res.Changes) != 7 {
		t.Fatalf("dry-run setup planned %q, %v; want 6 sysctls and 1 address", changeLines(res.Changes), err)
	}
	if len(h.applied) != 0 {
		t.Errorf("dry run applied %q", changeLines(h.applied))
	}
	if _, err := os.Stat(state); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("dry run wrote the state file: %v", err)
	}

	if _, err := Setup(ctx, h, spec, Options{StatePath: state}); err != nil {
		t.Fatal(err)
	}
	n := len(h.applied)
	res, err = Teardown(ctx, h, Options{StatePath: state, DryRun: true})
	if err != nil || len(res.Changes) != 7 || len(h.applied) != n {
		t.Errorf("dry-run teardown: planned %d, applied %d, err %v", len(res.Changes), len(h.applied)-n, err)
	}
	if _, err := os.Stat(state); err != nil {
		t.Errorf("dry-run teardown removed the state file: %v", err)
	}
}

func TestSetupRecordsWhatWasDoneBeforeAFailure(t *testing.T) {
	ctx := context.Background()
	state := filepath.Join(t.TempDir(), "realserver.json")
	h := &failingHost{fakeHost: freshHost(), failOn: ActionAddAddress}
	spec := Spec{Mode: ModeL2DSR, VIPs: []VIP{vip("198.18.0.10", 0)}}
	if _, err := Setup(ctx, h, spec, Options{StatePath: state}); err == nil {
		t.Fatal("setup succeeded though adding the address failed")
	}
	rec, err := LoadRecord(state)
	if err != nil || len(rec.Sysctls) != 6 || len(rec.Addresses) != 0 {
		t.Errorf("record after failure = %+v, %v; want the 6 sysctls and no address", rec, err)
	}
}

type failingHost struct {
	*fakeHost
	failOn Action
}

func (h *failingHost) Apply(ctx context.Context, c Change) error {
	if c.Action == h.failOn {
		return errors.New("injected failure")
	}
	return h.fakeHost.Apply(ctx, c)
}

func TestLoadRecordRefusesGarbage(t *testing.T) {
	state := filepath.Join(t.TempDir(), "realserver.json")
	if err := os.WriteFile(state, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Teardown(context.Background(), freshHost(), Options{StatePath: state}); !errors.Is(err, ErrStateCorrupt) {
		t.Errorf("teardown with a corrupt state file: %v, want ErrStateCorrupt", err)
	}
}
