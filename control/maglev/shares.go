package maglev

// Shares returns, for each backend index 0..n-1, the fraction of table slots
// it owns. Empty slots (-1) and indexes outside 0..n-1 count for nobody, so
// the result sums to less than 1 when the table has holes.
func Shares(table []int32, n int) []float64 {
	shares := make([]float64, n)
	if len(table) == 0 {
		return shares
	}
	counts := make([]int, n)
	for _, owner := range table {
		if owner >= 0 && int(owner) < n {
			counts[owner]++
		}
	}
	for i, c := range counts {
		shares[i] = float64(c) / float64(len(table))
	}
	return shares
}
