// Command flowgen writes a deterministic pcap of distinct TCP flows toward a VIP, the
// traffic the benchmarks replay through net_pcap (infinite_rx=1), or (-syn-of) a copy of
// such a capture whose every segment is a SYN, the mix nat and fnat can open connections
// from. See bench/README.md.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
)

func main() {
	cfg := DefaultConfig()
	var out, vip, dst, src, size, synOf string
	flag.StringVar(&out, "o", "flows.pcap", "output pcap")
	flag.StringVar(&synOf, "syn-of", "", "copy this capture to -o with every TCP segment a SYN (other mix flags are ignored)")
	var openOf string
	flag.StringVar(&openOf, "open-of", "", "copy this capture to -o behind one opening SYN per flow, its frames -rounds times (other mix flags are ignored)")
	rounds := flag.Int("rounds", 7, "with -open-of: how many times the capture follows the opening SYNs")
	flag.IntVar(&cfg.Flows, "flows", cfg.Flows, "distinct TCP flows (client address and port)")
	flag.IntVar(&cfg.Packets, "packets", 0, "frames in the capture (0 = every flow and size equally often)")
	flag.StringVar(&size, "size", "64", "frame size with FCS in bytes (64..1518), or imix (64/594/1518 as 7:4:1)")
	flag.StringVar(&vip, "vip", cfg.VIP.String(), "destination VIP; an IPv6 address makes IPv6 flows")
	flag.BoolFunc("ipv6", "IPv6 flows toward 2001:db8::100 (unless -vip is given)", func(string) error {
		vip = "2001:db8::100"
		return nil
	})
	port := flag.Uint("port", uint(cfg.Port), "destination TCP port")
	flag.StringVar(&dst, "dst-mac", cfg.DstMAC.String(), "destination MAC (the dataplane's port)")
	flag.StringVar(&src, "src-mac", cfg.SrcMAC.String(), "source MAC")
	flag.BoolVar(&cfg.SYN, "syn", false, "send SYNs (new flows) instead of ACKs (established flows)")
	flag.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the client addresses and ports")
	flag.Parse()

	if synOf != "" || openOf != "" {
		in, what := synOf, "every segment a SYN (from "+synOf+")"
		conv := SYNOf
		if openOf != "" {
			in, what = openOf, fmt.Sprintf("an opening SYN per flow then %d rounds of %s", *rounds, openOf)
			conv = func(w io.Writer, r io.Reader) (int, int, error) { return OpenThenReplay(w, r, *rounds) }
		}
		frames, flows, err := convertFile(out, in, conv)
		if err != nil {
			fmt.Fprintln(os.Stderr, "flowgen:", err)
			os.Exit(1)
		}
		fmt.Printf("flowgen: %s: %d frames, %d flows, %s\n", out, frames, flows, what)
		return
	}
	if err := parseInto(&cfg, vip, dst, src, size, *port); err != nil {
		fmt.Fprintln(os.Stderr, "flowgen:", err)
		os.Exit(2)
	}
	var n int
	if err := writeFile(out, func(w io.Writer) (err error) {
		n, err = Write(w, cfg)
		return err
	}); err != nil {
		fmt.Fprintln(os.Stderr, "flowgen:", err)
		os.Exit(1)
	}
	fmt.Printf("flowgen: %s: %d frames, %d flows toward %s port %d\n", out, n, cfg.Flows, cfg.VIP, cfg.Port)
}

func parseInto(cfg *Config, vip, dst, src, size string, port uint) error {
	var err error
	if cfg.VIP, err = netip.ParseAddr(vip); err != nil {
		return fmt.Errorf("-vip: %w", err)
	}
	if cfg.DstMAC, err = net.ParseMAC(dst); err != nil {
		return fmt.Errorf("-dst-mac: %w", err)
	}
	if cfg.SrcMAC, err = net.ParseMAC(src); err != nil {
		return fmt.Errorf("-src-mac: %w", err)
	}
	if port > 65535 {
		return fmt.Errorf("-port %d: %w", port, ErrConfig)
	}
	cfg.Port = uint16(port)
	if size == "imix" {
		cfg.Size = 0
	} else if _, err := fmt.Sscanf(size, "%d", &cfg.Size); err != nil {
		return fmt.Errorf("-size %q: want a number or imix", size)
	}
	return cfg.validate()
}

// writeFile writes to a temporary file and renames it, so a replaying port never sees a
// half-written capture.
// convertFile writes to out what conv makes of the capture in, and returns its frames and flows.
func convertFile(out, in string, conv func(io.Writer, io.Reader) (int, int, error)) (frames, flows int, err error) {
	f, err := os.Open(in)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	err = writeFile(out, func(w io.Writer) (err error) {
		frames, flows, err = conv(w, bufio.NewReader(f))
		return err
	})
	return frames, flows, err
}

func writeFile(path string, write func(io.Writer) error) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
