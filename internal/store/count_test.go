package store_test

import (
	"context"
	"testing"

	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

// TestCountIsExactForSmallSetsAndAnEstimateAboveTheCap counts a filtered
// set of 3 rows exactly, and the whole table of CountCap+2000 rows as an
// estimate no smaller than the cap.
func TestCountIsExactForSmallSetsAndAnEstimateAboveTheCap(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	insertTxn(t, db, txnOpts{tag: "1111", at: nyAt(3, 20, 9, 0)})
	if _, err := db.Pool.Exec(ctx, `INSERT INTO ezpass_transactions (account, dedupe_key, row_hash, import_id, line, kind, agency, txn_at, amount_cents, raw)
		SELECT 'main', 'G' || g, 'h', (SELECT max(id) FROM ezpass_imports), g, 'toll', CASE WHEN g <= 3 THEN 'NJTP' ELSE 'NYSTA' END,
			now() - g * interval '1 minute', 100, '{}'
		FROM generate_series(1, $1::int) g`, store.CountCap+2000); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `ANALYZE ezpass_transactions`); err != nil {
		t.Fatal(err)
	}
	c, err := store.CountEZPassTxns(ctx, db.Pool, store.EZPassTxnFilter{Agency: "njtp"})
	if err != nil || c != (store.Count{N: 3, Exact: true}) {
		t.Fatalf("NJTP count = %+v, %v", c, err)
	}
	c, err = store.CountEZPassTxns(ctx, db.Pool, store.EZPassTxnFilter{})
	if err != nil || c.Exact || c.N <= store.CountCap || c.N > 2*(store.CountCap+2001) {
		t.Fatalf("whole count = %+v, %v", c, err)
	}
	if r := (store.Count{N: 1_234_567}).Rounded(); r != 1_200_000 {
		t.Fatalf("rounded %d", r)
	}
	if r := (store.Count{N: 1_234_567, Exact: true}).Rounded(); r != 1_234_567 {
		t.Fatalf("exact rounded %d", r)
	}
}
