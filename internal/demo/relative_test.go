package demo

import (
	"testing"
	"time"
)

// TestRelativeToCoversThePastYearAndNextMonth: whatever today is, every
// vehicle has leases from 13 months back through next month, the same
// month gives the same fleet, and no sample toll lies in the future.
func TestRelativeToCoversThePastYearAndNextMonth(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 2, 13, 22, 0, 0, time.UTC)
	o := RelativeTo(now, ny)
	if want := time.Date(2025, 11, 1, 0, 0, 0, 0, ny); !o.Start.Equal(want) {
		t.Errorf("start %s; want %s", o.Start, want)
	}
	f := Generate(o)
	if g := Generate(RelativeTo(now.AddDate(0, 0, 20), ny)); len(g.Leases) != len(f.Leases) || !g.Leases[10].From.Equal(f.Leases[10].From) {
		t.Error("two days of one month gave two fleets")
	}
	wantFrom := time.Date(2025, 11, 4, 0, 0, 0, 0, ny) // hand-overs start in the first days
	wantTo := time.Date(2027, 2, 1, 0, 0, 0, 0, ny)    // the whole of next month
	for v := range f.Vehicles {
		first, last := f.Leases[f.vehicleLeases[v][0]], f.Leases[f.vehicleLeases[v][len(f.vehicleLeases[v])-1]]
		if first.From.After(wantFrom) || last.To.Before(wantTo) {
			t.Fatalf("vehicle %d leased %s – %s; want %s – %s", v, first.From, last.To, wantFrom, wantTo)
		}
	}
	samples, err := EZPassSamples(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) == 0 {
		t.Fatal("no samples")
	}
	for _, s := range samples {
		for _, r := range s.Rows {
			if r.At.After(now) {
				t.Fatalf("%s: toll at %s after today", s.Name, r.At)
			}
		}
	}
}
