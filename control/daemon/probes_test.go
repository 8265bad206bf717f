package daemon

import (
	"testing"

	"tenbin/control/config"
	"tenbin/control/health"
)

// A DSR-path check must start for every l2dsr and l3dsr backend of either family, with
// no interface or MAC in the configuration: the check finds them from the route.
func TestHealthJobsStartDSRPathChecksFromTheConfigurationAlone(t *testing.T) {
	cfg, err := config.Parse("dsr.yaml", []byte(`
dataplane:
  ports:
    - {name: lan, ipv4: 198.18.0.1/24, ipv6: 2001:db8::1/64}
services:
  - name: web
    vip: 198.18.1.10
    port: 80
    mode: l2dsr
    health_check: {kind: tcp, dsr_path: true}
    backends:
      - {name: rs1, address: 198.18.0.11}
  - name: web6
    vip: 2001:db8:1::10
    port: 80
    mode: l2dsr
    health_check: {kind: http, dsr_path: true}
    backends:
      - {name: rs1, address: 2001:db8::11}
  - name: api6
    vip: 2001:db8:1::20
    port: 443
    mode: l3dsr
    health_check: {kind: tcp, dsr_path: true}
    backends:
      - {name: rs1, address: 2001:db8::21}
`))
	if err != nil {
		t.Fatal(err)
	}
	jobs := healthJobs(cfg, nil)
	if len(jobs) != 3 {
		t.Fatalf("%d jobs, want 3", len(jobs))
	}
	for _, j := range jobs {
		if !j.Spec.DSRPath || j.Target.Iface != "" || j.Target.VIPPort == 0 {
			t.Errorf("%s: job %+v", j.Target.Key(), j)
		}
		if _, err := health.New(j.Spec, j.Target); err != nil {
			t.Errorf("%s: the check does not start: %v", j.Target.Key(), err)
		}
	}
	if j := jobs[2]; j.Target.Mode != health.ModeL3DSR || j.Target.DSCP != config.DefaultDSCP {
		t.Errorf("l3dsr target %+v: want the service's mode and DSCP", j.Target)
	}
}
