package demo

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Outcome is what association should make of a probe.
type Outcome string

// The outcomes a probe can aim at.
const (
	MatchByTag    Outcome = "tag"
	MatchByPlate  Outcome = "plate"
	NoVehicle     Outcome = "NO_VEHICLE"
	NoActiveLease Outcome = "NO_ACTIVE_LEASE"
	NoDriver      Outcome = "NO_DRIVER"
)

// Probe is a (tag or plate, time) to put in an E-ZPass row, with what
// association should find for it.
type Probe struct {
	Outcome    Outcome
	Tag        string // set for tag probes
	PlateState string // set for plate probes
	Plate      string
	At         time.Time
	VIN        string // the vehicle, when one matches
	LeaseRef   string // the lease, when one covers At
	DriverTLC  string // the driver association picks, when there is one
}

// TagOrPlate is the Tag/Plate # cell of an export: the tag, or "NY T123456C".
func (p Probe) TagOrPlate() string {
	if p.Tag != "" {
		return p.Tag
	}
	return p.PlateState + " " + p.Plate
}

// Probe returns a probe for the outcome; ok is false when the fleet has no
// case of it (e.g. no lease without a driver in a tiny fleet).
func (f *Fleet) Probe(r *rand.Rand, want Outcome) (Probe, bool) {
	for range 50 {
		if p, ok := f.probe(r, want); ok && (f.Opts.Until.IsZero() || p.At.Before(f.Opts.Until)) {
			return p, true
		}
	}
	return Probe{}, false
}

func (f *Fleet) probe(r *rand.Rand, want Outcome) (Probe, bool) {
	switch want {
	case NoVehicle:
		at := f.Opts.Start.Add(time.Duration(r.Int64N(int64(f.Opts.sampleDays()) * int64(24*time.Hour))))
		if r.IntN(2) == 0 {
			return Probe{Outcome: want, Tag: fmt.Sprintf("099%08d", r.IntN(100000000)), At: at}, true
		}
		return Probe{Outcome: want, PlateState: "NJ", Plate: fmt.Sprintf("Z%05dX", r.IntN(100000)), At: at}, true
	case NoActiveLease:
		if len(f.gaps) == 0 {
			return Probe{}, false
		}
		g := f.gaps[r.IntN(len(f.gaps))]
		at := within(r, g.from, g.to)
		p := Probe{Outcome: want, At: at, VIN: f.Vehicles[g.vehicle].VIN}
		return f.identify(r, p, g.vehicle, r.IntN(2) == 0)
	case NoDriver:
		if len(f.withoutDriver) == 0 {
			return Probe{}, false
		}
		l := f.Leases[f.withoutDriver[r.IntN(len(f.withoutDriver))]]
		p := Probe{Outcome: want, At: within(r, l.From, l.To), VIN: f.Vehicles[l.Vehicle].VIN, LeaseRef: l.Ref}
		return f.identify(r, p, l.Vehicle, r.IntN(2) == 0)
	case MatchByTag, MatchByPlate:
		l := f.Leases[f.withDriver[r.IntN(len(f.withDriver))]]
		p := Probe{Outcome: want, At: within(r, l.From, l.To), VIN: f.Vehicles[l.Vehicle].VIN, LeaseRef: l.Ref,
			DriverTLC: f.Drivers[l.Responsible()].TLC}
		return f.identify(r, p, l.Vehicle, want == MatchByTag)
	}
	return Probe{}, false
}

// identify fills the tag (or plate) bound to vehicle v at p.At.
func (f *Fleet) identify(r *rand.Rand, p Probe, v int, byTag bool) (Probe, bool) {
	if byTag {
		for _, i := range f.vehicleTags[v] {
			if f.Tags[i].Covers(p.At) {
				p.Tag = f.Tags[i].Tag
				return p, true
			}
		}
		return p, false
	}
	for _, i := range f.vehiclePlates[v] {
		if f.Plates[i].Covers(p.At) {
			p.PlateState, p.Plate = f.Plates[i].State, f.Plates[i].Plate
			return p, true
		}
	}
	return p, false
}

// within is a random instant in [from, to), to the second.
func within(r *rand.Rand, from, to time.Time) time.Time {
	span := int64(to.Sub(from) / time.Second)
	if span <= 1 {
		return from
	}
	return from.Add(time.Duration(r.Int64N(span)) * time.Second)
}
