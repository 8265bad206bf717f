package e2e

import (
	"math"
	"testing"
)

// sharesRequests per VIP. Each backend's share must be within ±10% (relative) of its weight
// share: with three equal backends that is 33.3% ± 3.3 points. At 3,000 requests the binomial
// spread of a share is 0.86 points, so the bound is 3.9σ; at 1,200 it would be 2.4σ and a
// correct balancer would fail one run in seven.
const sharesRequests = 3000

// TestSharesFollowWeights: thousands of requests over new connections to each VIP all succeed
// and spread over the backends as their weights say.
func TestSharesFollowWeights(t *testing.T) {
	l := requireLab(t)
	bs, err := l.backends()
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range services {
		t.Run(svc.name, func(t *testing.T) {
			r := l.load(t, svc.url, sharesRequests)
			t.Logf("%s %s: %v", svc.name, svc.url, r)
			checkShares(t, svc.name, bs, r, sharesRequests)
		})
	}
}

// checkShares asserts that all n requests to service svc succeeded, only its backends answered,
// and each answered its weight share ±10% (relative).
func checkShares(t *testing.T, svc string, bs []backend, r loadResult, n int) {
	t.Helper()
	weights := map[string]int{}
	total := 0
	for _, b := range bs {
		if b.Service == svc {
			weights[b.Name] = b.EffectiveWeight
			total += b.EffectiveWeight
		}
	}
	if r.failed() != 0 || r.OK != n {
		t.Errorf("%d of %d requests failed: %v", n-r.OK, n, r.Errors)
	}
	for name, got := range r.Servers {
		if _, ok := weights[name]; !ok {
			t.Errorf("%d answers from %s, which is not a backend of %s", got, name, svc)
		}
	}
	for name, w := range weights {
		want := float64(w) / float64(total)
		got := float64(r.Servers[name]) / float64(r.OK)
		if math.Abs(got-want) > 0.1*want {
			t.Errorf("%s answered %.1f%% of requests, its weight share is %.1f%% (bound ±10%%: %.1f%%..%.1f%%)",
				name, 100*got, 100*want, 90*want, 110*want)
		}
	}
}
