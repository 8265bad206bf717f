package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Where the lab keeps its state. They are passed to scripts/lab.sh explicitly, so the tests
// and the script agree even if the script's defaults change; they are the defaults scripts/demo.sh
// uses, so a lab left by the demo is taken down first.
const (
	labPrefix = "tbl"
	labRun    = "/run/tenbin-lab"
	labShm    = "/dev/shm/tenbin-lab"
	labSock   = "/run/tenbin/lab.sock"
)

// The lab's DSR services (configs/lab.yaml), one per mode and address family; the nat and
// fnat ones are natServices.
var services = []struct{ name, url string }{
	{"web-l2dsr", "http://198.18.0.100/"},
	{"web-l2dsr-v6", "http://[2001:db8::100]/"},
	{"web-l3dsr", "http://198.18.0.101/"},
	{"web-l3dsr-v6", "http://[2001:db8::101]/"},
}

// lab is the running lab shared by every test in the package.
type lab struct {
	root   string // repository root
	bin    string // root/bin
	config string // the configuration the control plane starts with
}

var (
	theLab *lab
	// skipReason, when set, is why the lab could not run; every test skips with it.
	skipReason string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse()
	l, reason := newLab()
	if reason != "" {
		skipReason = reason
		return m.Run()
	}
	theLab = l
	// A helper outside our process group tears the lab down if this process dies without doing
	// it (a panic, `go test -timeout`, SIGKILL): it waits for our end of a pipe to close.
	reaper, err := l.startReaper()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-signals
		fmt.Fprintf(os.Stderr, "e2e: %v: taking the lab down\n", s)
		l.down()
		reaper.done()
		os.Exit(130)
	}()

	// The tests apply configurations; none may end up in the checked-in file.
	config, _ := os.ReadFile(l.config)
	code := 1
	if err := l.up(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: lab up:", err)
		l.dumpLogs(os.Stderr)
	} else {
		code = m.Run()
		if code != 0 {
			l.dumpLogs(os.Stderr)
		}
	}
	signal.Stop(signals)
	l.down()
	reaper.done()
	if now, _ := os.ReadFile(l.config); !bytes.Equal(now, config) {
		fmt.Fprintf(os.Stderr, "e2e: %s changed during the tests\n", l.config)
		code = 1
	}
	if left := leftovers(l); len(left) > 0 {
		fmt.Fprintln(os.Stderr, "e2e: the lab left things behind:\n  "+strings.Join(left, "\n  "))
		code = 1
	}
	return code
}

// newLab finds the repository and the binaries; a non-empty reason says why the lab cannot run.
func newLab() (*lab, string) {
	if testing.Short() {
		return nil, "end-to-end lab tests skipped in -short mode"
	}
	if os.Geteuid() != 0 {
		return nil, "end-to-end lab tests need root (network namespaces, raw sockets): run `sudo go test ./test/e2e/` or `make test` as root"
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		return nil, err.Error()
	}
	// TENBIN_BIN points the tests at binaries built elsewhere (e.g. from a clean checkout).
	bin := os.Getenv("TENBIN_BIN")
	if bin == "" {
		bin = filepath.Join(root, "bin")
	}
	l := &lab{root: root, bin: bin, config: filepath.Join(root, "configs", "lab.yaml")}
	for _, b := range []string{"tenbin", "tenbin-dataplane"} {
		if _, err := os.Stat(filepath.Join(l.bin, b)); err != nil {
			return nil, fmt.Sprintf("%s is missing: run `make build` first", filepath.Join(l.bin, b))
		}
	}
	for _, tool := range []string{"ip", "tcpdump", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Sprintf("%s is not installed: run `make deps`", tool)
		}
	}
	// labtool is the lab's client and server: built here so it always matches the tests.
	build := exec.Command(goTool(), "build", "-o", filepath.Join(l.bin, "labtool"), "./test/labtool")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Sprintf("building bin/labtool failed: %v\n%s", err, out)
	}
	return l, ""
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go"
}

func requireLab(t *testing.T) *lab {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	theLab.waitReady(t)
	return theLab
}

func (l *lab) up() error {
	for _, step := range []string{"up", "servers", "balancer"} {
		if out, err := l.script(step); err != nil {
			return fmt.Errorf("lab.sh %s: %w\n%s", step, err, out)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if err := l.ready(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return l.ready()
}

func (l *lab) down() {
	if out, err := l.script("down"); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: lab.sh down: %v\n%s", err, out)
	}
}

// script runs scripts/lab.sh with the lab's paths.
func (l *lab) script(args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(l.root, "scripts", "lab.sh"), args...)
	cmd.Env = l.env()
	// Background processes the script starts write to their logs, but bound the wait anyway.
	cmd.WaitDelay = 5 * time.Second
	return cmd.CombinedOutput()
}

func (l *lab) env() []string {
	return append(os.Environ(), "LAB_PREFIX="+labPrefix, "LAB_RUN="+labRun, "LAB_SHM="+labShm,
		"LAB_SOCK="+labSock, "LAB_CONFIG="+l.config, "BIN="+l.bin)
}

// reaper is a shell that waits on a pipe and runs `lab.sh down` unless told "done".
type reaper struct {
	cmd *exec.Cmd
	w   io.WriteCloser
}

func (l *lab) startReaper() (*reaper, error) {
	cmd := exec.Command("/bin/sh", "-c", `read -r word; [ "$word" = done ] || exec "$0" down`,
		filepath.Join(l.root, "scripts", "lab.sh"))
	cmd.Env = l.env()
	// Its own process group: a Ctrl-C meant for the tests must not kill it first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	w, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("reaper: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("reaper: %w", err)
	}
	return &reaper{cmd: cmd, w: w}, nil
}

func (r *reaper) done() {
	io.WriteString(r.w, "done\n")
	r.w.Close()
	r.cmd.Wait()
}

// cli runs bin/tenbin against the lab's control daemon.
func (l *lab) cli(args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(l.bin, "tenbin"), append([]string{"--socket", labSock}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("tenbin %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

func (l *lab) mustCLI(t *testing.T, args ...string) []byte {
	t.Helper()
	out, err := l.cli(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// backend is the part of `tenbin backend list --output json` the tests look at.
type backend struct {
	Service          string `json:"service"`
	Name             string `json:"name"`
	Address          string `json:"address"`
	ConfiguredWeight int    `json:"configured_weight"`
	EffectiveWeight  int    `json:"effective_weight"`
	Health           string `json:"health"`
	Disabled         bool   `json:"disabled"`
	Drained          bool   `json:"drained"`
}

func (l *lab) backends() ([]backend, error) {
	out, err := l.cli("backend", "list", "--output", "json")
	if err != nil {
		return nil, err
	}
	var bs []backend
	if err := json.Unmarshal(out, &bs); err != nil {
		return nil, fmt.Errorf("backend list: %w", err)
	}
	return bs, nil
}

// status is the part of `tenbin status --output json` the tests look at.
type status struct {
	Control struct {
		PID int `json:"pid"`
	} `json:"control"`
	Dataplane struct {
		Alive         bool `json:"alive"`
		PID           int  `json:"pid"`
		LcoresRunning int  `json:"lcores_running"`
	} `json:"dataplane"`
	Publish struct {
		Generation uint64 `json:"generation"`
	} `json:"publish"`
	Backends   int `json:"backends"`
	BackendsUp int `json:"backends_up"`
}

func (l *lab) status() (status, error) {
	var s status
	out, err := l.cli("status", "--output", "json")
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(out, &s)
}

// errNotReady says the lab is not yet (or no longer) in its starting state.
var errNotReady = errors.New("lab not ready")

// ready reports whether the lab is in the state every test starts from: both processes alive
// and every backend of the lab configuration up, active and undrained.
func (l *lab) ready() error {
	s, err := l.status()
	if err != nil {
		return err
	}
	if !s.Dataplane.Alive || s.Dataplane.LcoresRunning == 0 {
		return fmt.Errorf("%w: dataplane not alive", errNotReady)
	}
	bs, err := l.backends()
	if err != nil {
		return err
	}
	up := 0
	for _, b := range bs {
		if b.Health != "up" || b.Disabled || b.Drained {
			return fmt.Errorf("%w: %s/%s is %s (disabled %v, drained %v)", errNotReady, b.Service, b.Name, b.Health, b.Disabled, b.Drained)
		}
		up++
	}
	if want := 3 * (len(services) + len(natServices)); up != want {
		return fmt.Errorf("%w: %d backends, want %d", errNotReady, up, want)
	}
	return nil
}

// waitReady waits for the starting state, which an earlier test may have left on its way back.
func (l *lab) waitReady(t *testing.T) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err = l.ready(); err == nil {
			return
		}
	}
	t.Fatalf("the lab is not in its starting state: %v", err)
}

// waitFor polls cond every 50 ms until it holds or timeout passes, and says how long it took.
func waitFor(timeout time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if cond() {
			return time.Since(start), true
		}
		if time.Since(start) > timeout {
			return time.Since(start), false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pid reads the pid scripts/lab.sh recorded for NAME (dataplane, control, rs1, ...).
func (l *lab) pid(t *testing.T, name string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(labRun, name+".pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("%s.pid: %v", name, err)
	}
	return pid
}

// kill sends sig to the lab process NAME and waits until it has gone.
func (l *lab) kill(t *testing.T, name string, sig syscall.Signal) {
	t.Helper()
	pid := l.pid(t, name)
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatalf("kill %s (%d): %v", name, pid, err)
	}
	if _, ok := waitFor(10*time.Second, func() bool { return !alive(pid) }); !ok {
		t.Fatalf("%s (%d) still runs 10 s after %v", name, pid, sig)
	}
}

// alive reports whether pid runs (a zombie does not: lab.sh's children are reaped by init).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] != 'Z'
}

func (l *lab) dumpLogs(w io.Writer) {
	for _, name := range []string{"dataplane", "control"} {
		b, err := os.ReadFile(filepath.Join(labRun, name+".log"))
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		lines = lines[max(0, len(lines)-15):]
		fmt.Fprintf(w, "--- %s/%s.log (last %d lines)\n%s\n", labRun, name, len(lines), strings.Join(lines, "\n"))
	}
}
