package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// leftovers lists what the lab left behind after `lab.sh down`: namespaces (and with them
// veths, bridges and nft tables), the region, the API socket and processes still running the
// lab's binaries or naming its files.
func leftovers(l *lab) []string {
	var left []string
	if ents, err := os.ReadDir("/run/netns"); err == nil {
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), labPrefix+"-") {
				left = append(left, "network namespace "+e.Name())
			}
		}
	}
	for _, f := range []string{labShm, labSock} {
		if _, err := os.Stat(f); err == nil {
			left = append(left, "file "+f)
		}
	}
	marks := [][]byte{[]byte(labShm), []byte(labSock), []byte(filepath.Join(l.bin, "labtool"))}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, m := range marks {
			if bytes.Contains(cmdline, m) {
				left = append(left, fmt.Sprintf("process %d: %s", pid, bytes.ReplaceAll(bytes.TrimRight(cmdline, "\x00"), []byte{0}, []byte{' '})))
				break
			}
		}
	}
	return left
}
