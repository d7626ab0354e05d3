package cputime

import "testing"

func TestUsedGrowsWithWork(t *testing.T) {
	before, err := Used()
	if err != nil {
		t.Fatal(err)
	}
	x := 0
	for i := range 50_000_000 {
		x ^= i * i
	}
	after, err := Used()
	if err != nil {
		t.Fatal(err)
	}
	if after <= before || x == 1 {
		t.Errorf("CPU time went from %v to %v over a busy loop", before, after)
	}
}
