package web

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/auth"
	"recondesk/internal/store"
)

// TestAssignFormOffersLeasesAndExplainsEmptySearches: a NO_DRIVER toll
// is offered the lease that covered it (with a way to add a driver), a
// NO_ACTIVE_LEASE toll the nearest leases before and after with a note,
// and searches that find nothing say why and what to do.
func TestAssignFormOffersLeasesAndExplainsEmptySearches(t *testing.T) {
	t.Parallel()
	b := setup(t)
	matchFixture(t, b)
	ctx := context.Background()
	// Vehicle B gets lease LC in March, with no driver.
	err := store.InTx(ctx, b.db.Pool, func(tx pgx.Tx) error {
		_, errs, err := store.LoadFleet(ctx, tx, store.FleetBatch{Leases: []store.LeaseRow{
			{Line: 1, Ref: "LC", VIN: "1HGCM82633A000002", Medallion: "1A01", From: nyAt(3, 1, 0, 0), To: nyAt(4, 1, 0, 0), Active: true}}}, nyTZ)
		if len(errs) > 0 {
			return fmt.Errorf("%+v", errs)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	noDriver := addToll(t, b, "2222", nyAt(3, 5, 14, 22), 911)
	noLeaseB := addToll(t, b, "2222", nyAt(2, 1, 9, 0), 500)
	noLeaseA := addToll(t, b, "1111", nyAt(7, 1, 9, 0), 700)
	if c := runAssociation(t, b); c.Failed["NO_DRIVER"] != 1 || c.Failed["NO_ACTIVE_LEASE"] != 2 {
		t.Fatalf("association = %+v", c)
	}
	finance := b.login(t, auth.Finance)

	// NO_DRIVER: the covering lease is shown (not an empty table) with what to do.
	_, body := b.get(t, finance, fmt.Sprintf("/ezpass/assign?ids=%d", noDriver))
	row := byTestID(t, body, "lease-nodriver-LC")
	if len(row) != 1 {
		t.Fatalf("NO_DRIVER toll: lease LC not offered")
	}
	if txt := textOf(row[0]); !strings.Contains(txt, "covers the toll") || !strings.Contains(txt, "No driver on this lease") ||
		!strings.Contains(txt, "1A01") || !strings.Contains(txt, "Mar 1, 2025 12:00 AM EST") {
		t.Errorf("LC row %q", txt)
	}

	// NO_ACTIVE_LEASE before LC: LC is offered as the nearest after, with a note and the explanation.
	_, body = b.get(t, finance, fmt.Sprintf("/ezpass/assign?ids=%d", noLeaseB))
	if len(byTestID(t, body, "lease-nodriver-LC")) != 1 {
		t.Error("nearest lease after the toll not offered")
	}
	if n := byTestID(t, body, "lease-cover-note"); len(n) != 1 || !strings.Contains(textOf(n[0]), "No lease of vehicle 1HGCM82633A000002 covers Feb 1, 2025 9:00 AM EST") {
		t.Errorf("cover note missing or wrong")
	}

	// Vehicle A after LB ended: only the nearest before (LB with Bob), not LA.
	_, body = b.get(t, finance, fmt.Sprintf("/ezpass/assign?ids=%d", noLeaseA))
	if len(byTestID(t, body, "choice-LB-5000002")) != 1 || len(byTestID(t, body, "choice-LA-5000001")) != 0 {
		t.Error("pre-offer is not the nearest lease before the toll")
	}

	// Search by VIN: leases exist but none covers: the explanation lists them.
	_, body = b.get(t, finance, fmt.Sprintf("/ezpass/assign?ids=%d&q=1HGCM82633A000001", noLeaseA))
	ex := byTestID(t, body, "explain-1HGCM82633A000001")
	if len(ex) != 1 {
		t.Fatal("no explanation for the VIN search")
	}
	txt := textOf(ex[0])
	for _, want := range []string{"No lease of vehicle 1HGCM82633A000001 covers Jul 1, 2025 9:00 AM EDT", "Its leases: LA (from Jan 1, 2025 12:00 AM EST to Feb 10, 2025 2:00 PM EST)",
		"LB (from Feb 10, 2025 2:00 PM EST to Jun 1, 2025 12:00 AM EDT)", "Fleet data → Leases"} {
		if !strings.Contains(txt, want) {
			t.Errorf("explanation %q lacks %q", txt, want)
		}
	}

	// A search naming nothing says so.
	_, body = b.get(t, finance, fmt.Sprintf("/ezpass/assign?ids=%d&q=NY+ZZZ999", noLeaseA), "HX-Request", "true")
	if n := byTestID(t, body, "lease-explain"); len(n) != 1 || !strings.Contains(textOf(n[0]), "No vehicle, medallion or lease matches “NY ZZZ999”") {
		t.Errorf("empty search has no explanation")
	}
	// A search by medallion finds vehicle B's lease LC with no driver.
	_, body = b.get(t, finance, fmt.Sprintf("/ezpass/assign?ids=%d&q=1A01", noDriver))
	if len(byTestID(t, body, "lease-nodriver-LC")) != 1 {
		t.Error("medallion search: LC not listed")
	}
}
