// Command labtool is the lab's real server and client: `serve` answers HTTP with its name,
// the client address it saw and the one a full-NAT balancer carried in TOA; `load` sends requests over new connections and reports how many
// each server answered; `hold` keeps one connection open and reports whether its server ever
// changes. The lab runs it inside network namespaces with `ip netns exec`.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"tenbin/realserver/toa"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: labtool serve|load|hold [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "load":
		err = load(os.Args[2:])
	case "hold":
		err = hold(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "labtool:", err)
		os.Exit(1)
	}
}

// Reply is what a lab server answers.
type Reply struct {
	Server string `json:"server"`
	Client string `json:"client"`
	Local  string `json:"local"`
	// TOA is the client address a full-NAT balancer carried in the SYN's TOA option.
	TOA string `json:"toa,omitempty"`
}

// listenList is a repeatable -listen flag.
type listenList []string

func (l *listenList) String() string     { return strings.Join(*l, ",") }
func (l *listenList) Set(s string) error { *l = append(*l, s); return nil }

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	name := fs.String("name", "", "server name to answer with")
	var listens listenList
	fs.Var(&listens, "listen", "listen address, repeatable (default :80)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(listens) == 0 {
		listens = listenList{":80"}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		local := ""
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			local = a.String()
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(Reply{Server: *name, Client: r.RemoteAddr, Local: local, TOA: toaFrom(r.Context())})
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ConnContext: withTOA}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	lc := net.ListenConfig{Control: toa.SaveSYN}
	var lns []net.Listener
	for _, addr := range listens {
		ln, err := lc.Listen(ctx, "tcp", addr)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return err
		}
		lns = append(lns, ln)
	}
	go func() { <-ctx.Done(); srv.Shutdown(context.Background()) }()
	errs := make(chan error, len(lns))
	for _, ln := range lns {
		go func() { errs <- srv.Serve(ln) }()
	}
	var first error
	for range lns {
		if err := <-errs; !errors.Is(err, http.ErrServerClosed) && first == nil {
			first = err
			srv.Close()
		}
	}
	return first
}

// Result is what `load` prints: answers per server, failures by error text.
type Result struct {
	Requests int            `json:"requests"`
	OK       int            `json:"ok"`
	Servers  map[string]int `json:"servers"`
	Clients  map[string]int `json:"clients"` // client addresses the servers saw (host part)
	TOA      map[string]int `json:"toa"`     // client addresses carried in TOA (host part; "" none)
	Errors   map[string]int `json:"errors"`
	Seconds  float64        `json:"seconds"`
}

func load(args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	url := fs.String("url", "", "URL to request")
	n := fs.Int("n", 1000, "requests, each on a new connection")
	conc := fs.Int("c", 8, "concurrent clients")
	timeout := fs.Duration("timeout", 2*time.Second, "per-request timeout")
	duration := fs.Duration("duration", 0, "keep going for this long instead of -n requests")
	source := fs.String("source", "", "local address to connect from (default: the route's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dialer := &net.Dialer{}
	if *source != "" {
		a, err := netip.ParseAddr(*source)
		if err != nil {
			return fmt.Errorf("-source: %w", err)
		}
		dialer.LocalAddr = &net.TCPAddr{IP: a.AsSlice()}
	}
	client := &http.Client{Timeout: *timeout, Transport: &http.Transport{DisableKeepAlives: true, DialContext: dialer.DialContext}}
	res := Result{Servers: map[string]int{}, Clients: map[string]int{}, TOA: map[string]int{}, Errors: map[string]int{}}
	var mu sync.Mutex
	start := time.Now()
	work := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < *conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				rep, err := get(client, *url)
				mu.Lock()
				res.Requests++
				if err != nil {
					res.Errors[shortErr(err)]++
				} else {
					res.OK++
					res.Servers[rep.Server]++
					host, _, _ := net.SplitHostPort(rep.Client)
					res.Clients[host]++
					toa, _, _ := net.SplitHostPort(rep.TOA)
					res.TOA[toa]++
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; *duration > 0 && time.Since(start) < *duration || *duration == 0 && i < *n; i++ {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	return json.NewEncoder(os.Stdout).Encode(res)
}

func get(c *http.Client, url string) (Reply, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return Reply{}, err
	}
	return do(c, req)
}

func do(c *http.Client, req *http.Request) (Reply, error) {
	var rep Reply
	resp, err := c.Do(req)
	if err != nil {
		return rep, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return rep, err
	}
	if resp.StatusCode != http.StatusOK {
		return rep, fmt.Errorf("status %d", resp.StatusCode)
	}
	return rep, json.Unmarshal(body, &rep)
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}

// HoldResult is what `hold` prints.
type HoldResult struct {
	Requests    int      `json:"requests"`
	Errors      int      `json:"errors"`
	Servers     []string `json:"servers"`     // distinct servers seen, in order
	Connections int      `json:"connections"` // TCP connections dialed: 1 unless one broke
	MaxLatency  float64  `json:"max_latency_ms"`
	LastError   string   `json:"last_error,omitempty"`
}

// hold keeps one connection and asks it for the server's name every interval until -duration
// ends or it gets SIGTERM/SIGINT, then prints a HoldResult. Each time the server changes it
// says so on stderr ("server rs1") so a test can see where the connection landed while it runs.
func hold(args []string) error {
	fs := flag.NewFlagSet("hold", flag.ContinueOnError)
	url := fs.String("url", "", "URL to request")
	duration := fs.Duration("duration", 5*time.Second, "how long to keep the connection (0: until SIGTERM)")
	interval := fs.Duration("interval", 50*time.Millisecond, "pause between requests")
	timeout := fs.Duration("timeout", 2*time.Second, "per-request timeout (a longer one rides out a balancer restart on the same connection)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	var res HoldResult
	// Counting dials tells a connection that survived from one the transport quietly replaced.
	trace := &httptrace.ClientTrace{ConnectStart: func(string, string) { res.Connections++ }}
	// One connection for the whole run: MaxConnsPerHost 1 and keep-alive.
	client := &http.Client{Timeout: *timeout, Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}}
	for ctx.Err() == nil {
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, *url, nil)
		if err != nil {
			return err
		}
		start := time.Now()
		rep, err := do(client, req)
		res.MaxLatency = max(res.MaxLatency, float64(time.Since(start).Microseconds())/1000)
		res.Requests++
		if err != nil {
			res.Errors++
			res.LastError = shortErr(err)
		} else if len(res.Servers) == 0 || res.Servers[len(res.Servers)-1] != rep.Server {
			res.Servers = append(res.Servers, rep.Server)
			fmt.Fprintln(os.Stderr, "server", rep.Server)
		}
		select {
		case <-ctx.Done():
		case <-time.After(*interval):
		}
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}
