package demo

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

func TestGenerateIsDeterministicAndRealistic(t *testing.T) {
	t.Parallel()
	a, b := Generate(Options{Seed: 1}), Generate(Options{Seed: 1})
	if !reflect.DeepEqual(a.Leases, b.Leases) || !reflect.DeepEqual(a.Tags, b.Tags) {
		t.Fatal("the same seed gave two fleets")
	}
	if len(a.Vehicles) < 300 || len(a.Leases) < 4*len(a.Vehicles) {
		t.Fatalf("%d vehicles, %d leases", len(a.Vehicles), len(a.Leases))
	}
	var sameInstant, double, noPrimary, none, tagChanges, plateChanges int
	for i, l := range a.Leases {
		if i > 0 && a.Leases[i-1].Vehicle == l.Vehicle && a.Leases[i-1].To.Equal(l.From) {
			sameInstant++
		}
		switch {
		case len(l.Drivers) == 0:
			none++
		case len(l.Drivers) == 2 && (l.Drivers[0].Primary || l.Drivers[1].Primary):
			double++
		case len(l.Drivers) == 2:
			noPrimary++
		}
	}
	for _, tg := range a.Tags {
		if !tg.To.IsZero() {
			tagChanges++
		}
	}
	for _, p := range a.Plates {
		if !p.To.IsZero() {
			plateChanges++
		}
	}
	if sameInstant == 0 || double == 0 || noPrimary == 0 || none == 0 || tagChanges == 0 || plateChanges == 0 || len(a.gaps) == 0 {
		t.Fatalf("hand-overs %d, double %d, no primary %d, no driver %d, tag changes %d, plate changes %d, gaps %d",
			sameInstant, double, noPrimary, none, tagChanges, plateChanges, len(a.gaps))
	}
}

func TestProbesAimAtTheirOutcome(t *testing.T) {
	t.Parallel()
	f := Generate(Options{Seed: 2})
	r := rand.New(rand.NewPCG(1, 1))
	for _, o := range []Outcome{MatchByTag, MatchByPlate, NoVehicle, NoActiveLease, NoDriver} {
		for range 50 {
			p, ok := f.Probe(r, o)
			if !ok {
				t.Fatalf("no probe for %s", o)
			}
			var covering []Lease
			for _, l := range f.Leases {
				if f.Vehicles[l.Vehicle].VIN == p.VIN && !p.At.Before(l.From) && p.At.Before(l.To) {
					covering = append(covering, l)
				}
			}
			switch o {
			case MatchByTag, MatchByPlate:
				if len(covering) != 1 || covering[0].Ref != p.LeaseRef || f.Drivers[covering[0].Responsible()].TLC != p.DriverTLC {
					t.Fatalf("%s probe %+v: covering leases %v", o, p, covering)
				}
				if (o == MatchByTag) != (p.Tag != "") {
					t.Fatalf("%s probe identifies by the wrong thing: %+v", o, p)
				}
			case NoActiveLease:
				if len(covering) != 0 {
					t.Fatalf("no-lease probe %+v is covered by %v", p, covering)
				}
			case NoDriver:
				if len(covering) != 1 || len(covering[0].Drivers) != 0 {
					t.Fatalf("no-driver probe %+v: %v", p, covering)
				}
			case NoVehicle:
				if p.VIN != "" || p.TagOrPlate() == "" {
					t.Fatalf("no-vehicle probe %+v", p)
				}
			}
		}
	}
}

func TestLeaseResponsible(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		drivers []LeaseDriver
		want    int
	}{
		{nil, -1},
		{[]LeaseDriver{{Driver: 4, Primary: true, Position: 1}}, 4},
		{[]LeaseDriver{{Driver: 1, Position: 1}, {Driver: 2, Primary: true, Position: 2}}, 2},
		{[]LeaseDriver{{Driver: 7, Position: 2}, {Driver: 3, Position: 1}}, 3},
	} {
		if got := (Lease{Drivers: tc.drivers}).Responsible(); got != tc.want {
			t.Errorf("Responsible(%v) = %d; want %d", tc.drivers, got, tc.want)
		}
	}
}
