package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

var ny = mustLoc("America/New_York")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func nyAt(month time.Month, day, hour, min int) time.Time {
	return time.Date(2025, month, day, hour, min, 0, 0, ny)
}

const (
	vin1 = "1HGCM82633A000001"
	vin2 = "1HGCM82633A000002"
	vin3 = "1HGCM82633A000003"
)

// smallFleet is the hand-built fleet of the association tests:
//   - tag 1111 is on vehicle 1 until March 1, then on vehicle 2;
//   - vehicle 1: lease LA (D1) hands over to LB (D2 first, D3 primary) on Feb 10 at 14:00;
//   - vehicle 2: LC ends Feb 1, LD (D2 position 1, D4 position 2, no primary) starts Feb 5 09:00 and ends Jun 1;
//   - vehicle 3: lease LE has no driver.
func smallFleet() store.FleetBatch {
	return store.FleetBatch{
		Medallions: []store.MedallionRow{{Line: 1, Number: "1A01"}, {Line: 2, Number: "1A02"}},
		Drivers:    []store.DriverRow{{Line: 1, Name: "Dana One", TLC: "5000001"}, {Line: 2, Name: "Dev Two", TLC: "5000002"}, {Line: 3, Name: "Dee Three", TLC: "5000003"}, {Line: 4, Name: "Doc Four", TLC: "5000004"}},
		Vehicles:   []store.VehicleRow{{1, vin1, "1A01"}, {2, vin2, "1A02"}, {3, vin3, "1A01"}},
		Tags: []store.TagRow{
			{Line: 1, VIN: vin1, Tag: "1111", From: nyAt(1, 1, 0, 0), To: nyAt(3, 1, 0, 0)},
			{Line: 2, VIN: vin2, Tag: "1111", From: nyAt(3, 1, 0, 0)},
			{Line: 3, VIN: vin3, Tag: "3333", From: nyAt(1, 1, 0, 0)},
		},
		Plates: []store.PlateRow{
			{Line: 1, VIN: vin1, State: "NY", Plate: "T1C", From: nyAt(1, 1, 0, 0)},
			{Line: 2, VIN: vin2, State: "NY", Plate: "T2C", From: nyAt(1, 1, 0, 0)},
		},
		Leases: []store.LeaseRow{
			{Line: 1, Ref: "LA", VIN: vin1, Medallion: "1A01", From: nyAt(1, 1, 0, 0), To: nyAt(2, 10, 14, 0), Active: true},
			{Line: 2, Ref: "LB", VIN: vin1, Medallion: "1A01", From: nyAt(2, 10, 14, 0), To: nyAt(4, 1, 0, 0), Active: true},
			{Line: 3, Ref: "LC", VIN: vin2, Medallion: "1A02", From: nyAt(1, 1, 0, 0), To: nyAt(2, 1, 0, 0), Active: true},
			{Line: 4, Ref: "LD", VIN: vin2, Medallion: "1A02", From: nyAt(2, 5, 9, 0), To: nyAt(6, 1, 0, 0), Active: true},
			{Line: 5, Ref: "LE", VIN: vin3, Medallion: "1A01", From: nyAt(1, 1, 0, 0), To: nyAt(6, 1, 0, 0), Active: true},
		},
		LeaseDrivers: []store.LeaseDriverRow{
			{Line: 1, LeaseRef: "LA", TLC: "5000001", Primary: true, Position: 1},
			{Line: 2, LeaseRef: "LB", TLC: "5000002", Position: 1},
			{Line: 3, LeaseRef: "LB", TLC: "5000003", Primary: true, Position: 2},
			{Line: 4, LeaseRef: "LC", TLC: "5000001", Primary: true, Position: 1},
			{Line: 5, LeaseRef: "LD", TLC: "5000004", Position: 2},
			{Line: 6, LeaseRef: "LD", TLC: "5000002", Position: 1},
		},
	}
}

// loadFleet loads a batch and fails the test on refusals.
func loadFleet(t *testing.T, db *pgtest.DB, b store.FleetBatch) store.FleetCounts {
	t.Helper()
	var counts store.FleetCounts
	err := store.InTx(context.Background(), db.Pool, func(tx pgx.Tx) error {
		c, errs, err := store.LoadFleet(context.Background(), tx, b, ny)
		if len(errs) > 0 {
			return fmt.Errorf("refused: %+v", errs)
		}
		counts = c
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return counts
}

// tryFleet loads a batch and returns the row errors (rolled back when any).
func tryFleet(t *testing.T, db *pgtest.DB, b store.FleetBatch) []store.FleetRowError {
	t.Helper()
	var errs []store.FleetRowError
	err := store.InTx(context.Background(), db.Pool, func(tx pgx.Tx) error {
		var err error
		_, errs, err = store.LoadFleet(context.Background(), tx, b, ny)
		if err == nil && len(errs) > 0 {
			return errRollback
		}
		return err
	})
	if err != nil && err != errRollback {
		t.Fatal(err)
	}
	return errs
}

var errRollback = fmt.Errorf("rollback")

func id(t *testing.T, db *pgtest.DB, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func TestLoadFleetIsIdempotentAndCounts(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	first := loadFleet(t, db, smallFleet())
	if first[store.FleetLeases].Inserted != 5 || first[store.FleetTags].Inserted != 3 || first[store.FleetLeaseDrivers].Inserted != 6 {
		t.Fatalf("first load = %+v", first)
	}
	second := loadFleet(t, db, smallFleet())
	if second.Changed() {
		t.Fatalf("second load changed something: %+v", second)
	}
	if second[store.FleetLeases].Unchanged != 5 {
		t.Fatalf("second load = %+v", second)
	}
	// Ending a binding: same tag and start, now with an end.
	b := store.FleetBatch{Tags: []store.TagRow{{Line: 1, VIN: vin3, Tag: "3333", From: nyAt(1, 1, 0, 0), To: nyAt(5, 1, 0, 0)}}}
	c := loadFleet(t, db, b)
	if c[store.FleetTags].Updated != 1 {
		t.Fatalf("ending a binding = %+v", c)
	}
}

func TestLoadFleetRefusesOverlapsWithClearMessages(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	loadFleet(t, db, smallFleet())
	for _, tc := range []struct {
		name  string
		batch store.FleetBatch
		want  string
	}{
		{"lease overlaps a stored lease", store.FleetBatch{Leases: []store.LeaseRow{
			{Line: 2, Ref: "L-123", VIN: vin1, Medallion: "1A01", From: nyAt(3, 1, 0, 0), To: nyAt(5, 1, 0, 0), Active: true}}},
			"Lease L-123 overlaps active lease LB of vehicle " + vin1 + " from 2025-02-10 14:00 EST to 2025-04-01 00:00 EDT"},
		{"leases overlap in the file", store.FleetBatch{Leases: []store.LeaseRow{
			{Line: 2, Ref: "L-1", VIN: vin3, Medallion: "1A01", From: nyAt(7, 1, 0, 0), To: nyAt(8, 1, 0, 0), Active: true},
			{Line: 3, Ref: "L-2", VIN: vin3, Medallion: "1A01", From: nyAt(7, 15, 0, 0), To: nyAt(9, 1, 0, 0), Active: true}}},
			"Lease L-2 overlaps lease L-1 (line 2) of vehicle " + vin3},
		{"tag bound twice", store.FleetBatch{Tags: []store.TagRow{{Line: 4, VIN: vin3, Tag: "1111", From: nyAt(4, 1, 0, 0)}}},
			"Tag 1111 from 2025-04-01 00:00 EDT to open end overlaps its binding to vehicle " + vin2},
		{"unknown vehicle", store.FleetBatch{Plates: []store.PlateRow{{Line: 7, VIN: "1HGCM82633A999999", State: "NY", Plate: "X1", From: nyAt(1, 1, 0, 0)}}},
			"VIN 1HGCM82633A999999 is not known; upload it in Vehicles first"},
		{"unknown medallion", store.FleetBatch{Vehicles: []store.VehicleRow{{Line: 3, VIN: "1HGCM82633A000009", Medallion: "9Z99"}}},
			"Medallion 9Z99 is not known"},
		{"two primaries", store.FleetBatch{LeaseDrivers: []store.LeaseDriverRow{{Line: 2, LeaseRef: "LA", TLC: "5000002", Primary: true, Position: 2}}},
			"Lease LA already has primary driver 5000001"},
	} {
		errs := tryFleet(t, db, tc.batch)
		if len(errs) == 0 || !strings.Contains(errs[0].Message, tc.want) {
			t.Errorf("%s: errors = %+v; want %q", tc.name, errs, tc.want)
		}
	}
	if n := id(t, db, `SELECT count(*) FROM leases`); n != 5 {
		t.Fatalf("a refused load wrote leases: %d", n)
	}
}
