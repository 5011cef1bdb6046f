package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

// TestBrowseFleetPageShowsTimesInTheZone lists the leases, plates and tags
// of the small fleet in one statement on the pool (no transaction) and
// shows their hand-overs in the zone asked for, whatever the session's.
func TestBrowseFleetPageShowsTimesInTheZone(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	loadFleet(t, db, smallFleet())
	la := []string{"LA", vin1, "1A01", "Jan 1, 2025 12:00 AM EST", "Feb 10, 2025 2:00 PM EST", "yes", "Dana One (primary)"}
	p, err := store.BrowseFleetPage(ctx, db.Pool, store.FleetLeases, "", 1, 50, ny)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rows) == 0 || !slices.Equal(p.Rows[0], la) {
		t.Fatalf("first lease %v; want %v", p.Rows, la)
	}
	p, err = store.BrowseFleetPage(ctx, db.Pool, store.FleetLeases, "LA", 1, 50, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rows) != 1 || p.Rows[0][3] != "Jan 1, 2025 5:00 AM UTC" || p.Rows[0][4] != "Feb 10, 2025 7:00 PM UTC" {
		t.Fatalf("lease LA in UTC: %v", p.Rows)
	}
	for _, e := range []string{store.FleetMedallions, store.FleetDrivers, store.FleetVehicles, store.FleetPlates, store.FleetTags, store.FleetLeaseDrivers} {
		if p, err := store.BrowseFleetPage(ctx, db.Pool, e, "", 1, 50, ny); err != nil || len(p.Rows) == 0 {
			t.Errorf("%s: %d rows, %v", e, len(p.Rows), err)
		}
	}
	p, err = store.BrowseFleetPage(ctx, db.Pool, store.FleetTags, "1111", 1, 50, ny)
	if err != nil || len(p.Rows) != 2 || p.Rows[0][2] != "Jan 1, 2025 12:00 AM EST" || p.Rows[0][3] != "Mar 1, 2025 12:00 AM EST" || p.Rows[1][3] != "open" {
		t.Fatalf("tag 1111: %v, %v", p.Rows, err)
	}
}
