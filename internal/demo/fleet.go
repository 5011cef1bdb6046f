// Package demo generates Recondesk's demo data deterministically: a taxi
// fleet (medallions, vehicles, plates, tags, drivers, leases) whose tags,
// plates and times E-ZPass sample files and benchmarks can aim at.
package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"recondesk/internal/store"
)

// Options sizes a generated fleet; zero fields take the demo defaults.
type Options struct {
	Seed          uint64
	Vehicles      int            // default 320
	MeanLeaseDays int            // mean lease length; default 70 (≈5 leases per vehicle a year)
	Start         time.Time      // first day of leases; default 2025-01-01 00:00 in Loc
	Days          int            // span of leases; default 400
	Loc           *time.Location // wall-clock zone of hand-overs; default America/New_York
	// Until bounds the sample tolls (no toll after it); zero: the whole span.
	Until time.Time
}

// RelativeTo are the demo options for a fleet seen on day now: leases cover
// the 13 months before now's month, that month and the next one, and sample
// tolls stop at the start of now's day. Within one month the fleet is the
// same, so seeding again adds nothing.
func RelativeTo(now time.Time, loc *time.Location) Options {
	if loc == nil {
		loc = Options{}.withDefaults().Loc
	}
	n := now.In(loc)
	start := time.Date(n.Year(), n.Month()-13, 1, 0, 0, 0, 0, loc)
	end := time.Date(n.Year(), n.Month()+2, 8, 0, 0, 0, 0, loc) // a week of slack: the last hand-over may leave a gap
	days := int(end.Sub(start).Hours()/24 + 0.5)
	return Options{Seed: 1, Loc: loc, Start: start, Days: days, Until: time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)}
}

// sampleDays is how many days from Start sample tolls may fall on.
func (o Options) sampleDays() int {
	if o.Until.IsZero() {
		return o.Days
	}
	return max(1, min(o.Days, int(o.Until.Sub(o.Start).Hours()/24)))
}

func (o Options) withDefaults() Options {
	if o.Vehicles == 0 {
		o.Vehicles = 320
	}
	if o.MeanLeaseDays == 0 {
		o.MeanLeaseDays = 70
	}
	if o.Loc == nil {
		loc, err := time.LoadLocation("America/New_York")
		if err != nil {
			loc = time.UTC
		}
		o.Loc = loc
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2025, 1, 1, 0, 0, 0, 0, o.Loc)
	}
	if o.Days == 0 {
		o.Days = 400
	}
	return o
}

// Vehicle is a taxi with its medallion.
type Vehicle struct {
	VIN, Medallion string
}

// Driver is a licensed driver.
type Driver struct {
	Name, TLC string
}

// Binding is a tag or plate of a vehicle for [From, To) (To zero: open-ended).
type Binding struct {
	Vehicle  int // index into Fleet.Vehicles
	Tag      string
	State    string
	Plate    string
	From, To time.Time
}

// Covers reports whether the binding is valid at t.
func (b Binding) Covers(t time.Time) bool {
	return !t.Before(b.From) && (b.To.IsZero() || t.Before(b.To))
}

// LeaseDriver is a driver on a lease.
type LeaseDriver struct {
	Driver   int // index into Fleet.Drivers
	Primary  bool
	Position int
}

// Lease is a vehicle's lease for [From, To).
type Lease struct {
	Ref      string
	Vehicle  int
	From, To time.Time
	Drivers  []LeaseDriver
}

// Responsible is the driver association picks: the primary, else the first
// by position; -1 when the lease has no driver.
func (l Lease) Responsible() int {
	best, bestPos := -1, 0
	for _, d := range l.Drivers {
		if d.Primary {
			return d.Driver
		}
		if best == -1 || d.Position < bestPos {
			best, bestPos = d.Driver, d.Position
		}
	}
	return best
}

// Fleet is a generated fleet.
type Fleet struct {
	Opts     Options
	Vehicles []Vehicle
	Drivers  []Driver
	Tags     []Binding
	Plates   []Binding
	Leases   []Lease
	// byVehicle indexes leases, tags and plates per vehicle.
	vehicleLeases [][]int
	vehicleTags   [][]int
	vehiclePlates [][]int
	gaps          []gap
	withDriver    []int
	withoutDriver []int
}

type gap struct {
	vehicle  int
	from, to time.Time
}

const vinChars = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"

func vin(i int) string {
	b := []byte("4T1BF1FK000000000")
	n := i + 1
	for p := 16; p >= 8 && n > 0; p-- {
		b[p] = vinChars[n%len(vinChars)]
		n /= len(vinChars)
	}
	return string(b)
}

func medallion(i int) string {
	if i < 9*26*100 {
		return fmt.Sprintf("%d%c%02d", 1+i/2600, 'A'+i/100%26, i%100)
	}
	return fmt.Sprintf("M%06d", i)
}

var firstNames = []string{"Amara", "Bilal", "Carmen", "Dmitri", "Esther", "Farid", "Grace", "Hector", "Imani", "Jamal", "Keiko", "Luis",
	"Mei", "Nikhil", "Olga", "Pedro", "Quentin", "Rosa", "Samir", "Tanya", "Umar", "Valentina", "Wei", "Yusuf", "Zainab"}
var lastNames = []string{"Abebe", "Brown", "Chowdhury", "Diallo", "Estrada", "Fernandes", "Gupta", "Haddad", "Ivanova", "Jones",
	"Khan", "Lopez", "Mensah", "Nguyen", "Okafor", "Patel", "Rahman", "Singh", "Torres", "Usman", "Vargas", "Williams", "Yilmaz", "Zhang"}

// Generate builds a fleet from the options; the same options give the same fleet.
func Generate(o Options) *Fleet {
	o = o.withDefaults()
	r := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	f := &Fleet{Opts: o}
	nv := o.Vehicles
	f.vehicleLeases = make([][]int, nv)
	f.vehicleTags = make([][]int, nv)
	f.vehiclePlates = make([][]int, nv)
	end := o.Start.AddDate(0, 0, o.Days)
	bindFrom := o.Start.AddDate(0, 0, -30)
	nd := nv*3/2 + 1
	for i := range nd {
		f.Drivers = append(f.Drivers, Driver{
			Name: firstNames[r.IntN(len(firstNames))] + " " + lastNames[r.IntN(len(lastNames))],
			TLC:  fmt.Sprintf("5%06d", 100000+i*7),
		})
	}
	tagN, plateN := 0, 0
	newTag := func() string { tagN++; return fmt.Sprintf("008%08d", 10000000+tagN*13) }
	newPlate := func() string { plateN++; return fmt.Sprintf("T%06dC", 100000+plateN*3) }
	for v := range nv {
		f.Vehicles = append(f.Vehicles, Vehicle{VIN: vin(v), Medallion: medallion(v)})
		// Tags: 95% have one; a tenth of those change it during the year.
		if r.IntN(100) < 95 {
			if r.IntN(10) == 0 {
				switchAt := localAt(o, r, o.Start.AddDate(0, 0, 60+r.IntN(max(1, o.Days-120))))
				f.addBinding(&f.Tags, f.vehicleTags, Binding{Vehicle: v, Tag: newTag(), From: bindFrom, To: switchAt})
				f.addBinding(&f.Tags, f.vehicleTags, Binding{Vehicle: v, Tag: newTag(), From: switchAt})
			} else {
				f.addBinding(&f.Tags, f.vehicleTags, Binding{Vehicle: v, Tag: newTag(), From: bindFrom})
			}
		}
		// Plates: every vehicle; one in twenty is re-plated.
		if r.IntN(20) == 0 {
			switchAt := localAt(o, r, o.Start.AddDate(0, 0, 30+r.IntN(max(1, o.Days-60))))
			f.addBinding(&f.Plates, f.vehiclePlates, Binding{Vehicle: v, State: "NY", Plate: newPlate(), From: bindFrom, To: switchAt})
			f.addBinding(&f.Plates, f.vehiclePlates, Binding{Vehicle: v, State: "NY", Plate: newPlate(), From: switchAt})
		} else {
			f.addBinding(&f.Plates, f.vehiclePlates, Binding{Vehicle: v, State: "NY", Plate: newPlate(), From: bindFrom})
		}
		// Leases: back to back (hand-over on the same day, often at the
		// same instant) or with a gap of a few days.
		at := localAt(o, r, o.Start.AddDate(0, 0, r.IntN(3)))
		for at.Before(end) {
			days := o.MeanLeaseDays/2 + r.IntN(o.MeanLeaseDays+1)
			to := localAt(o, r, at.AddDate(0, 0, max(1, days)))
			if to.After(end) || !to.After(at) {
				to = end
			}
			l := Lease{Ref: fmt.Sprintf("L-%06d", len(f.Leases)+1), Vehicle: v, From: at, To: to}
			l.Drivers = drivers(r, nd)
			f.vehicleLeases[v] = append(f.vehicleLeases[v], len(f.Leases))
			if len(l.Drivers) == 0 {
				f.withoutDriver = append(f.withoutDriver, len(f.Leases))
			} else {
				f.withDriver = append(f.withDriver, len(f.Leases))
			}
			f.Leases = append(f.Leases, l)
			next := to
			if r.IntN(4) == 0 {
				next = localAt(o, r, to.AddDate(0, 0, 1+r.IntN(5)))
				if next.Before(end) {
					f.gaps = append(f.gaps, gap{vehicle: v, from: to, to: next})
				}
			}
			at = next
		}
	}
	return f
}

// localAt is the day of t at a random wall-clock hand-over time (06:00–18:45) in the fleet's zone.
func localAt(o Options, r *rand.Rand, t time.Time) time.Time {
	t = t.In(o.Loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 6+r.IntN(13), 15*r.IntN(4), 0, 0, o.Loc)
}

// drivers picks a lease's drivers: mostly one primary; some two (with the
// primary second, or no primary at all); one in a hundred none.
func drivers(r *rand.Rand, nd int) []LeaseDriver {
	a, b := r.IntN(nd), r.IntN(nd)
	for b == a {
		b = r.IntN(nd)
	}
	switch p := r.IntN(100); {
	case p < 1:
		return nil
	case p < 7:
		return []LeaseDriver{{Driver: a, Position: 1}, {Driver: b, Primary: true, Position: 2}}
	case p < 10:
		return []LeaseDriver{{Driver: b, Position: 2}, {Driver: a, Position: 1}}
	}
	return []LeaseDriver{{Driver: a, Primary: true, Position: 1}}
}

func (f *Fleet) addBinding(list *[]Binding, idx [][]int, b Binding) {
	idx[b.Vehicle] = append(idx[b.Vehicle], len(*list))
	*list = append(*list, b)
}

// Batch is the fleet as rows to load (line numbers are 1-based positions).
func (f *Fleet) Batch() store.FleetBatch {
	var b store.FleetBatch
	for i, v := range f.Vehicles {
		b.Medallions = append(b.Medallions, store.MedallionRow{Line: i + 1, Number: v.Medallion})
		b.Vehicles = append(b.Vehicles, store.VehicleRow{Line: i + 1, VIN: v.VIN, Medallion: v.Medallion})
	}
	for i, d := range f.Drivers {
		b.Drivers = append(b.Drivers, store.DriverRow{Line: i + 1, Name: d.Name, TLC: d.TLC})
	}
	for i, t := range f.Tags {
		b.Tags = append(b.Tags, store.TagRow{Line: i + 1, VIN: f.Vehicles[t.Vehicle].VIN, Tag: t.Tag, From: t.From, To: t.To})
	}
	for i, p := range f.Plates {
		b.Plates = append(b.Plates, store.PlateRow{Line: i + 1, VIN: f.Vehicles[p.Vehicle].VIN, State: p.State, Plate: p.Plate, From: p.From, To: p.To})
	}
	n := 0
	for i, l := range f.Leases {
		v := f.Vehicles[l.Vehicle]
		b.Leases = append(b.Leases, store.LeaseRow{Line: i + 1, Ref: l.Ref, VIN: v.VIN, Medallion: v.Medallion, From: l.From, To: l.To, Active: true})
		for _, d := range l.Drivers {
			n++
			b.LeaseDrivers = append(b.LeaseDrivers, store.LeaseDriverRow{Line: n, LeaseRef: l.Ref, TLC: f.Drivers[d.Driver].TLC, Primary: d.Primary, Position: d.Position})
		}
	}
	return b
}

// Load writes the fleet in one transaction with set-based statements;
// loading it again adds nothing.
func Load(ctx context.Context, pool *pgxpool.Pool, f *Fleet) (store.FleetCounts, error) {
	var counts store.FleetCounts
	err := store.InTx(ctx, pool, func(tx pgx.Tx) error {
		c, errs, err := store.LoadFleet(ctx, tx, f.Batch(), f.Opts.Loc)
		if err != nil {
			return err
		}
		if len(errs) > 0 {
			return fmt.Errorf("demo fleet refused: line %d of %s: %s", errs[0].Line, errs[0].Entity, errs[0].Message)
		}
		counts = c
		return nil
	})
	return counts, err
}
