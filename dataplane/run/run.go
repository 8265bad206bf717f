package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"tenbin/cgo/dpdk"
	"tenbin/control/shm"
)

// port is one configured ethdev.
type port struct {
	id      dpdk.Port
	name    string
	devargs string
	queues  uint16 // rx and tx queues configured
	kernel  bool   // a kernel tap (kernel.go), not a data port
}

// Run starts the dataplane and blocks until ctx is cancelled, then stops it cleanly. The
// main lcore's poll loop runs on the calling goroutine's OS thread (the one that initialised
// the EAL); the other lcores' loops are launched with rte_eal_remote_launch.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	eal := dpdk.EALArgs{
		ProgramName: "tenbin-dataplane",
		Lcores:      cfg.Lcores,
		MemoryMB:    cfg.MemoryMB,
		NoHuge:      !cfg.Huge,
		NoPCI:       true,
		NoTelemetry: true,
		Vdevs:       cfg.Ports,
		LogLevel:    cfg.LogLevel,
		// A private runtime directory and no shared config files: several dataplanes (and
		// testpmd in the benchmarks) run side by side. --in-memory would say the same but
		// EAL refuses it with --no-huge.
		FilePrefix: "tenbin-dp-" + strconv.Itoa(os.Getpid()),
		Extra:      append([]string{"--no-shconf"}, cfg.ExtraEAL...),
	}
	log.Debug("eal init", "args", strings.Join(eal.Args(), " "))
	// EAL and the PMDs log a page on bad input; hold it back until the ports are up, so the
	// user sees one line (the error quotes EAL's reason), or all of it with -v.
	var startLog bytes.Buffer
	if verbose := log.Enabled(ctx, slog.LevelDebug); !verbose {
		dpdk.SetLogWriter(&startLog)
	}
	defer dpdk.SetLogWriter(os.Stderr)
	if _, err := dpdk.InitEAL(eal.Args()); err != nil {
		return usagef("EAL: %v", err)
	}
	runtimeDir := dpdk.RuntimeDir()
	defer func() {
		dpdk.CleanupEAL()
		// Our private runtime directory (file prefix per pid) would pile up otherwise.
		if strings.Contains(runtimeDir, "tenbin-dp-") {
			os.RemoveAll(runtimeDir)
		}
	}()

	ports := make([]port, len(cfg.Ports))
	for i, d := range cfg.Ports {
		id, err := dpdk.PortByName(portName(d))
		if err != nil {
			return usagef("port %s: could not be created (check its devargs): %v%s", portName(d), err, probeReason(startLog.String(), portName(d)))
		}
		ports[i] = port{id: id, name: portName(d), devargs: d}
	}
	lcores := append([]uint{dpdk.MainLcore()}, dpdk.WorkerLcores()...)
	if uint(len(lcores)) > cfg.Region.Lcores {
		return usagef("%d lcores but the region has %d lcore slots (--lcore-slots)", len(lcores), cfg.Region.Lcores)
	}
	region, err := shm.OpenOrCreate(cfg.SHMPath, cfg.regionParams())
	if err != nil {
		return fmt.Errorf("region: %w", err)
	}
	defer region.Close()
	if int(region.Header().NLcores) < len(lcores) {
		return usagef("region %s has %d lcore slots, %d lcores asked", cfg.SHMPath, region.Header().NLcores, len(lcores))
	}
	if cfg.CheckOnly {
		fmt.Printf("ok: %d port(s) [%s], %d lcore(s), region %s (%d MiB)\n", len(ports), names(ports), len(lcores),
			cfg.SHMPath, region.Header().TotalSize>>20)
		return nil
	}

	dpdk.SetLogWriter(os.Stderr)
	pool, err := dpdk.NewPktMbufPool("tenbin_pkts", uint32(cfg.MbufCount), 256, 2048+128, dpdk.SocketID(lcores[0]),
		poolLayout(cfg.Ports))
	if err != nil {
		if !cfg.Huge && errors.Is(err, syscall.ENOMEM) {
			// Without hugepages the pool lays its mbufs end to end, 2,368 bytes each
			// (dpdk.Mempool.Packed), in the EAL's --mem, beside the rings and the rest.
			return fmt.Errorf("mbuf pool: %w (%d mbufs of 2.3 KiB need more than %d MiB of --mem, which is %d)",
				err, cfg.MbufCount, cfg.MbufCount*2368>>20+128, cfg.MemoryMB)
		}
		return fmt.Errorf("mbuf pool: %w", err)
	}
	defer pool.Free()
	for i := range ports {
		if err := setupPort(&ports[i], uint16(len(lcores)), cfg.RxDesc, cfg.TxDesc, pool); err != nil {
			return err
		}
		defer ports[i].id.Close()
		defer ports[i].id.Stop()
		publishPortInfo(region, i, ports[i])
		if int(ports[i].queues) < len(lcores) {
			log.Warn("port has fewer queues than lcores; the extra lcores do not poll it", "port", ports[i].name, "queues", ports[i].queues, "lcores", len(lcores))
		}
	}

	taps, err := startKernelTaps(cfg, ports, uint16(len(lcores)), pool, log)
	if err != nil {
		return err
	}
	defer stopKernelTaps(taps)

	h := region.Header()
	atomic.StoreUint64(&h.DataplanePID, uint64(os.Getpid()))
	atomic.StoreUint64(&h.DataplaneStartedMs, shm.NowMs())
	atomic.StoreUint32(&h.NPorts, uint32(len(ports)))

	loops, err := newLoops(region, ports, lcores, pool, cfg.Passthrough, kernelTapsConf(taps, uint16(len(lcores))))
	if err != nil {
		return err
	}
	defer loops.free()
	for i, lc := range lcores[1:] {
		if loops.confs[i+1] == nil {
			log.Warn("lcore has no queue to poll and stays idle", "lcore", lc)
			continue
		}
		if err := loops.launch(i+1, lc); err != nil {
			loops.stop()
			dpdk.WaitAll()
			return fmt.Errorf("launch lcore %d: %w", lc, err)
		}
	}
	atomic.StoreUint32(&h.LcoresRunning, uint32(len(lcores)))
	log.Info("dataplane running", "ports", names(ports), "lcores", len(lcores), "shm", cfg.SHMPath, "passthrough", cfg.Passthrough,
		"mbufs", pool.Size(), "mbufs_packed", pool.Packed(),
		"kernel_ports", len(taps))

	done := make(chan struct{})
	go func() { // heartbeat and stop: never per packet, ten times a second
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			atomic.StoreUint64(&h.DataplaneHeartbeatMs, shm.NowMs())
			select {
			case <-ctx.Done():
				loops.stop()
				return
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	rc := loops.runMain() // blocks in C until stopped
	close(done)
	for lc, r := range dpdk.WaitAll() {
		if r != 0 {
			log.Warn("lcore loop ended with an error", "lcore", lc, "rc", r)
		}
	}
	atomic.StoreUint32(&h.LcoresRunning, 0)
	atomic.StoreUint64(&h.DataplaneHeartbeatMs, 0)
	log.Info("dataplane stopped")
	if rc != 0 {
		return fmt.Errorf("main lcore loop: %w", syscall.Errno(-rc))
	}
	return nil
}

// setupPort gives the port one rx and one tx queue per lcore, or as many as it has: lcore
// slot i polls queue i and transmits on queue i, so no queue is shared between lcores.
// A data port spreads flows with RSS and receives promiscuously; a kernel tap does neither
// (slot 0 polls all its queues, and its interface keeps the host's own receive filter).
func setupPort(p *port, lcores, rxDesc, txDesc uint16, pool *dpdk.Mempool) error {
	info, err := p.id.Info()
	if err != nil {
		return fmt.Errorf("port %s: %w", p.name, err)
	}
	nq := min(lcores, info.MaxRxQueues, info.MaxTxQueues)
	if nq == 0 {
		return fmt.Errorf("port %s has no queues", p.name)
	}
	p.queues = nq
	if err := p.id.Configure(nq, nq, dpdk.PortConf{RSS: nq > 1 && !p.kernel, Promiscuous: !p.kernel}); err != nil {
		return fmt.Errorf("port %s: %w", p.name, err)
	}
	rxd, txd, err := p.id.AdjustDescriptors(rxDesc, txDesc)
	if err != nil {
		return fmt.Errorf("port %s: %w", p.name, err)
	}
	for q := uint16(0); q < nq; q++ {
		if err := p.id.RxQueueSetup(q, rxd, info.Socket, pool); err != nil {
			return fmt.Errorf("port %s rx queue %d: %w", p.name, q, err)
		}
		if err := p.id.TxQueueSetup(q, txd, info.Socket); err != nil {
			return fmt.Errorf("port %s tx queue %d: %w", p.name, q, err)
		}
	}
	if err := p.id.Start(); err != nil {
		return fmt.Errorf("port %s start: %w", p.name, err)
	}
	if p.kernel {
		return nil
	}
	if err := p.id.Promiscuous(true); err != nil && !errors.Is(err, dpdk.ErrNotSupported) {
		return fmt.Errorf("port %s promiscuous: %w", p.name, err)
	}
	return nil
}

func publishPortInfo(r *shm.Region, i int, p port) {
	pi := r.PortInfo(i)
	*pi = shm.PortInfo{}
	shm.SetName(pi.Name[:], p.name)
	if mac, err := p.id.MACAddr(); err == nil {
		copy(pi.MAC[:], mac)
	}
	if l, err := p.id.Link(); err == nil {
		pi.SpeedMbps = l.SpeedMbps
		if l.Up {
			pi.LinkUp = 1
		}
	}
	pi.NQueues = p.queues
	pi.Present = 1
}

func names(ps []port) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.name
	}
	return strings.Join(s, ",")
}

// probeReason picks the PMD's own complaint about a port from the held-back start-up log.
func probeReason(logText, name string) string {
	for _, line := range strings.Split(logText, "\n") {
		l := strings.ToLower(line)
		if strings.Contains(line, name) || strings.Contains(l, "invalid") || strings.Contains(l, "unknown") {
			if line = strings.TrimSpace(line); line != "" && !strings.Contains(line, "failed to initialize") {
				return " (" + line + ")"
			}
		}
	}
	return ""
}
