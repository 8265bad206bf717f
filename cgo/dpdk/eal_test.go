package dpdk

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestEALArgs(t *testing.T) {
	tests := []struct {
		name string
		in   EALArgs
		want []string
	}{
		{"zero value is the program name only", EALArgs{}, []string{"tenbin"}},
		{"lab vdevs", EALArgs{
			ProgramName: "tenbin-dataplane", Lcores: "0-1", MemoryMB: 256,
			NoHuge: true, NoPCI: true, InMemory: true,
			Vdevs:      []string{"net_null0", "net_pcap0,rx_pcap=in.pcap"},
			FilePrefix: "lab1",
		}, []string{
			"tenbin-dataplane", "-l", "0-1", "-m", "256", "--no-huge", "--no-pci", "--in-memory",
			"--vdev", "net_null0", "--vdev", "net_pcap0,rx_pcap=in.pcap", "--file-prefix=lab1",
		}},
		{"main lcore, log level and extra last", EALArgs{
			Lcores: LcoreList([]uint{2, 3, 5}), MainLcore: 3, LogLevel: "lib.eal:debug",
			NoTelemetry: true, Extra: []string{"--huge-unlink"},
		}, []string{
			"tenbin", "-l", "2,3,5", "--main-lcore", "3", "--no-telemetry",
			"--log-level=lib.eal:debug", "--huge-unlink",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.Args(); !slices.Equal(got, tt.want) {
				t.Errorf("Args() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHasLogLevel(t *testing.T) {
	for args, want := range map[string]bool{
		"prog -l 0":                         false,
		"prog --log-level=debug":            true,
		"prog --log-level 8":                true,
		"prog -- --log-level=debug":         false,
		"prog --vdev net_null0 --in-memory": false,
	} {
		if got := hasLogLevel(strings.Fields(args)); got != want {
			t.Errorf("hasLogLevel(%q) = %v, want %v", args, got, want)
		}
	}
}

func TestInitEALRunsOnce(t *testing.T) {
	_, err := InitEAL(testEALArgs().Args())
	if !errors.Is(err, ErrAlready) {
		t.Fatalf("second InitEAL: err = %v, want ErrAlready", err)
	}
}

// A bad EAL argument must come back as one line naming the cause, not as
// EAL's usage page or log on the terminal.
func TestInitEALFailureIsOneLine(t *testing.T) {
	tests := []struct {
		extra      string
		wantPrefix string
		wantDetail string
	}{
		{"--vdev=net_bogus0", "rte_eal_init: No such device (", "net_bogus0"},
		{"--no-such-eal-flag", "rte_eal_init: Invalid argument (", "no-such-eal-flag"},
	}
	for _, tt := range tests {
		t.Run(tt.extra, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+tt.extra)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			got := strings.TrimSpace(string(out))
			if strings.Count(got, "\n") != 0 {
				t.Fatalf("child printed more than one line:\n%s", got)
			}
			if !strings.HasPrefix(got, tt.wantPrefix) || !strings.Contains(got, tt.wantDetail) {
				t.Errorf("error = %q, want %q... naming %q", got, tt.wantPrefix, tt.wantDetail)
			}
		})
	}
}
