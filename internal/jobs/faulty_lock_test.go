package jobs

import (
	"context"
	"testing"
	"time"

	"recondesk/internal/faulty"
	"recondesk/internal/store"
)

// TestValidationReadsUnderThePeriodLock: an ingestion that lands while a validation is about
// to start is not overwritten. The test holds the period lock as an ingestion would and moves
// a row to an unknown Party ID (which clears its validation); the validation must wait for the
// lock before reading, so it checks the new Party ID (UNKNOWN_PARTNER) instead of writing an
// outcome computed from the row as it was.
func TestValidationReadsUnderThePeriodLock(t *testing.T) {
	t.Parallel()
	f := setupPipeline(t, pipeOpts{bookings: 40, partners: 2})
	ctx := context.Background()
	if _, err := f.p.Run(ctx, oct2026, PhaseIngestion, "system:test", nil); err != nil {
		t.Fatal(err)
	}
	var rowID int64
	if err := f.db.Pool.QueryRow(ctx, `SELECT id FROM faulty_report_rows WHERE period = '2026-10' ORDER BY id LIMIT 1`).Scan(&rowID); err != nil {
		t.Fatal(err)
	}

	// The "newer ingestion": holds the period lock and changes the row, not yet committed.
	tx, err := f.db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if err := store.LockFaultyPeriod(ctx, tx, "2026-10"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE faulty_report_rows SET party_id = 'ZZ*NEW', confirmed = NULL, validated_at = NULL WHERE id = $1`, rowID); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := f.p.Run(ctx, oct2026, PhaseValidation, "system:test", nil)
		done <- err
	}()
	// Wait until the validation waits for the period lock.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var waiting int
		if err := f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("validation finished (%v) while the period was locked", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the validation never waited for the period lock")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var reason string
	var partner *int64
	var confirmed *bool
	err = f.db.Pool.QueryRow(ctx, `SELECT coalesce(reason, ''), partner_id, confirmed FROM faulty_report_rows WHERE id = $1`, rowID).Scan(&reason, &partner, &confirmed)
	if err != nil {
		t.Fatal(err)
	}
	if reason != string(faulty.ReasonUnknownPartner) || partner != nil || confirmed == nil || *confirmed {
		t.Errorf("row after validation: reason %q, partner %v, confirmed %v; want UNKNOWN_PARTNER, no partner, not confirmed (the newer ingestion's Party ID)",
			reason, partner, confirmed)
	}
}
