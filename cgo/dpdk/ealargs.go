package dpdk

import (
	"strconv"
	"strings"
)

// EALArgs describes an EAL command line; Args renders it for InitEAL.
// Zero values leave DPDK's defaults.
type EALArgs struct {
	// ProgramName is argv[0]; "tenbin" when empty.
	ProgramName string
	// Lcores is the -l list in DPDK syntax, e.g. "0-3" or "0,2"
	// (LcoreList builds it from ids).
	Lcores string
	// MainLcore > 0 adds --main-lcore; otherwise the first listed lcore
	// is the main one (list 0 first to make it main).
	MainLcore int
	// MemoryMB > 0 adds -m (memory to preallocate, in MiB).
	MemoryMB int
	NoHuge   bool
	NoPCI    bool
	// NoTelemetry turns off the telemetry socket thread.
	NoTelemetry bool
	// InMemory keeps every runtime file in memory (--in-memory); implies
	// a primary process that shares nothing. DPDK 22.11 refuses it with
	// NoHuge (which implies legacy memory); use Extra "--no-shconf" there.
	InMemory bool
	// Vdevs become one --vdev each, e.g. "net_null0" or
	// "net_pcap0,rx_pcap=in.pcap".
	Vdevs []string
	// FilePrefix names the runtime directory (--file-prefix), so several
	// DPDK processes can run side by side.
	FilePrefix string
	// LogLevel is passed as --log-level, e.g. "debug" or "lib.eal:info".
	// When no --log-level is given, InitEAL lowers the log to errors.
	LogLevel string
	// Extra arguments go last, unchanged.
	Extra []string
}

// Args renders the command line, argv[0] first.
func (a EALArgs) Args() []string {
	name := a.ProgramName
	if name == "" {
		name = "tenbin"
	}
	args := []string{name}
	if a.Lcores != "" {
		args = append(args, "-l", a.Lcores)
	}
	if a.MainLcore > 0 {
		args = append(args, "--main-lcore", strconv.Itoa(a.MainLcore))
	}
	if a.MemoryMB > 0 {
		args = append(args, "-m", strconv.Itoa(a.MemoryMB))
	}
	if a.NoHuge {
		args = append(args, "--no-huge")
	}
	if a.NoPCI {
		args = append(args, "--no-pci")
	}
	if a.NoTelemetry {
		args = append(args, "--no-telemetry")
	}
	if a.InMemory {
		args = append(args, "--in-memory")
	}
	for _, v := range a.Vdevs {
		args = append(args, "--vdev", v)
	}
	if a.FilePrefix != "" {
		args = append(args, "--file-prefix="+a.FilePrefix)
	}
	if a.LogLevel != "" {
		args = append(args, "--log-level="+a.LogLevel)
	}
	return append(args, a.Extra...)
}

// LcoreList renders lcore ids as an -l list, e.g. []uint{0, 1, 3} → "0,1,3".
func LcoreList(ids []uint) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatUint(uint64(id), 10)
	}
	return strings.Join(parts, ",")
}

// hasLogLevel reports whether the EAL part of args (before "--") sets a
// log level.
func hasLogLevel(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--log-level" || strings.HasPrefix(a, "--log-level=") {
			return true
		}
	}
	return false
}
