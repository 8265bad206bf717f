package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// loadResult is what `labtool load` prints.
type loadResult struct {
	Requests int            `json:"requests"`
	OK       int            `json:"ok"`
	Servers  map[string]int `json:"servers"`
	Clients  map[string]int `json:"clients"` // client addresses the servers saw
	TOA      map[string]int `json:"toa"`     // client addresses carried in TOA ("" none)
	Errors   map[string]int `json:"errors"`
	Seconds  float64        `json:"seconds"`
}

func (r loadResult) failed() int {
	n := 0
	for _, c := range r.Errors {
		n += c
	}
	return n
}

func (r loadResult) String() string {
	names := make([]string, 0, len(r.Servers))
	for name := range r.Servers {
		names = append(names, name)
	}
	sort.Strings(names)
	per := make([]string, len(names))
	for i, name := range names {
		per[i] = fmt.Sprintf("%s=%d", name, r.Servers[name])
	}
	s := fmt.Sprintf("%d/%d ok in %.1fs [%s]", r.OK, r.Requests, r.Seconds, strings.Join(per, " "))
	if f := r.failed(); f > 0 {
		s += fmt.Sprintf(", %d failed %v", f, r.Errors)
	}
	return s
}

// clientCmd is labtool run in the client namespace.
func (l *lab) clientCmd(args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", labPrefix + "-client", filepath.Join(l.bin, "labtool")}, args...)...)
}

// pendingLoad is a `labtool load` running in the background.
type pendingLoad struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr bytes.Buffer
}

// startLoad sends requests to url over new connections (`labtool load` flags in args).
func (l *lab) startLoad(t *testing.T, url string, args ...string) *pendingLoad {
	t.Helper()
	p := &pendingLoad{cmd: l.clientCmd(append([]string{"load", "-url", url}, args...)...)}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	startCmd(t, p.cmd)
	return p
}

func (p *pendingLoad) wait(t *testing.T) loadResult {
	t.Helper()
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("labtool load: %v: %s", err, p.stderr.String())
	}
	var r loadResult
	if err := json.Unmarshal(p.stdout.Bytes(), &r); err != nil {
		t.Fatalf("labtool load output %q: %v", p.stdout.String(), err)
	}
	return r
}

// load sends n requests to url, each on a new connection, 8 at a time.
func (l *lab) load(t *testing.T, url string, n int) loadResult {
	t.Helper()
	return l.startLoad(t, url, "-n", fmt.Sprint(n), "-c", "8").wait(t)
}

// loadFrom is load from the client's address source (the NAT tests' 198.18.0.3 / 2001:db8::3).
func (l *lab) loadFrom(t *testing.T, url, source string, n int) loadResult {
	t.Helper()
	return l.startLoad(t, url, "-n", fmt.Sprint(n), "-c", "8", "-source", source).wait(t)
}

// holdResult is what `labtool hold` prints.
type holdResult struct {
	Requests    int      `json:"requests"`
	Errors      int      `json:"errors"`
	Servers     []string `json:"servers"`
	Connections int      `json:"connections"`
	MaxLatency  float64  `json:"max_latency_ms"`
	LastError   string   `json:"last_error"`
}

// heldConn is one long-lived keep-alive connection, asking its server's name every 50 ms.
type heldConn struct {
	url    string
	server string // the first server that answered
	cmd    *exec.Cmd
	stdout bytes.Buffer
}

// startHold opens a held connection to url and waits for its first answer. Flags for
// `labtool hold` go in args.
func (l *lab) startHold(t *testing.T, url string, args ...string) *heldConn {
	t.Helper()
	h := &heldConn{url: url, cmd: l.clientCmd(append([]string{"hold", "-url", url, "-duration", "0"}, args...)...)}
	h.cmd.Stdout = &h.stdout
	// hold says "server NAME" on stderr whenever its server changes; the first line is where
	// the connection landed.
	first := make(chan string, 1)
	h.cmd.Stderr = &serverLines{first: first}
	startCmd(t, h.cmd)
	select {
	case h.server = <-first:
	case <-time.After(5 * time.Second):
		t.Fatalf("held connection to %s: no answer within 5 s", url)
	}
	return h
}

// stop ends the held connection and returns what it saw.
func (h *heldConn) stop(t *testing.T) holdResult {
	t.Helper()
	h.cmd.Process.Signal(syscall.SIGTERM)
	if err := h.cmd.Wait(); err != nil {
		t.Fatalf("labtool hold %s: %v", h.url, err)
	}
	var r holdResult
	if err := json.Unmarshal(h.stdout.Bytes(), &r); err != nil {
		t.Fatalf("labtool hold output %q: %v", h.stdout.String(), err)
	}
	return r
}

// checkStayed asserts what a user of a long-lived connection notices: one connection, one
// server (the one it started on), no failed request.
func checkStayed(t *testing.T, h *heldConn, r holdResult) {
	t.Helper()
	if len(r.Servers) != 1 || r.Servers[0] != h.server {
		t.Errorf("connection to %s started on %s but was answered by %v", h.url, h.server, r.Servers)
	}
	if r.Connections != 1 {
		t.Errorf("connection to %s broke: %d connections dialed (last error %q)", h.url, r.Connections, r.LastError)
	}
	if r.Errors != 0 {
		t.Errorf("connection to %s (on %s): %d of %d requests failed (last error %q)", h.url, h.server, r.Errors, r.Requests, r.LastError)
	}
}

// serverLines passes on the first "server NAME" line `labtool hold` writes to stderr.
type serverLines struct {
	partial []byte
	first   chan<- string
}

func (w *serverLines) Write(p []byte) (int, error) {
	w.partial = append(w.partial, p...)
	for {
		line, rest, ok := bytes.Cut(w.partial, []byte("\n"))
		if !ok {
			return len(p), nil
		}
		w.partial = rest
		if name, ok := strings.CutPrefix(string(line), "server "); ok {
			select {
			case w.first <- name:
			default:
			}
		}
	}
}

// startCmd starts cmd and makes sure it does not outlive the test.
func startCmd(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
}
