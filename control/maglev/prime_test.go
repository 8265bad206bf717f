package maglev

import "testing"

func TestIsPrime(t *testing.T) {
	cases := []struct {
		n    uint32
		want bool
	}{
		{0, false}, {1, false}, {2, true}, {3, true}, {4, false}, {25, false},
		{MinSize, true}, {DefaultSize, true}, {MaxSize, true},
		{65536, false}, {655371, false}, {65537 * 3, false},
		{4294967291, true}, // largest uint32 prime
		{4294967295, false},
	}
	for _, c := range cases {
		if got := IsPrime(c.n); got != c.want {
			t.Errorf("IsPrime(%d) = %v, want %v", c.n, got, c.want)
		}
	}
}

func TestNextPrime(t *testing.T) {
	cases := []struct{ n, want uint32 }{
		{0, 2}, {2, 2}, {250, 251}, {65536, 65537}, {65537, 65537},
		{655360, 655373}, {4294967291, 4294967291}, {4294967292, 0},
	}
	for _, c := range cases {
		if got := NextPrime(c.n); got != c.want {
			t.Errorf("NextPrime(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}
