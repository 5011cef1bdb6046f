package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

// txnOpts describes a toll row inserted directly for tests.
type txnOpts struct {
	kind        string // default toll
	tag         string
	state       string
	plate       string
	at          time.Time
	amount      int64 // default 911
	status      string
	matchMethod string
	leaseRef    string // for pre-assigned rows
	driverTLC   string
}

var txnSeq int

// insertTxn inserts one E-ZPass transaction (and its import on first use).
func insertTxn(t *testing.T, db *pgtest.DB, o txnOpts) int64 {
	t.Helper()
	ctx := context.Background()
	imp := id(t, db, `INSERT INTO ezpass_imports (account, file_name, size_bytes, sha256, created_by)
		VALUES ('main', 'test.csv', 1, 'sha-test', 'test') ON CONFLICT (sha256) DO UPDATE SET size_bytes = 1 RETURNING id`)
	if o.kind == "" {
		o.kind = "toll"
	}
	if o.amount == 0 {
		o.amount = 911
	}
	if o.status == "" {
		o.status = "imported"
	}
	txnSeq++
	var tag, state, plate, mm, ref, tlc any
	tagOrPlate := o.tag
	if o.tag != "" {
		tag = o.tag
	}
	if o.plate != "" {
		state, plate, tagOrPlate = o.state, o.plate, o.state+" "+o.plate
	}
	if o.matchMethod != "" {
		mm = o.matchMethod
	}
	if o.leaseRef != "" {
		ref, tlc = o.leaseRef, o.driverTLC
	}
	var n int64
	err := db.Pool.QueryRow(ctx, `INSERT INTO ezpass_transactions (account, dedupe_key, lane_txn_id, row_hash, import_id, line, kind,
			tag_or_plate, tag, plate_state, plate, agency, exit_plaza, txn_at, amount_cents, raw, status, match_method,
			lease_id, driver_id, medallion_id, vehicle_id)
		SELECT 'main', $1, $1, 'h' || $1, $2, 1, $3, $4, $5, $6, $7, 'MTAB&T', 'RFK', $8, $9, '{}', $10, $11,
			l.id, d.id, l.medallion_id, l.vehicle_id
		FROM (SELECT 1) one LEFT JOIN leases l ON l.ref = $12 LEFT JOIN drivers d ON d.tlc_license = $13
		RETURNING id`,
		fmt.Sprintf("T%d-%d", time.Now().UnixNano(), txnSeq), imp, o.kind, tagOrPlate, tag, state, plate, o.at, o.amount, o.status, mm, ref, tlc).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

type txnState struct {
	Status, Code, Message, Hint, Method, LeaseRef, DriverTLC, VIN string
}

func stateOf(t *testing.T, db *pgtest.DB, txnID int64) txnState {
	t.Helper()
	var s txnState
	err := db.Pool.QueryRow(context.Background(), `SELECT t.status, t.failure_code, t.failure_message, t.failure_hint,
			coalesce(t.match_method, ''), coalesce(l.ref, ''), coalesce(d.tlc_license, ''), coalesce(v.vin, '')
		FROM ezpass_transactions t LEFT JOIN leases l ON l.id = t.lease_id LEFT JOIN drivers d ON d.id = t.driver_id
		LEFT JOIN vehicles v ON v.id = t.vehicle_id WHERE t.id = $1`, txnID).
		Scan(&s.Status, &s.Code, &s.Message, &s.Hint, &s.Method, &s.LeaseRef, &s.DriverTLC, &s.VIN)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func associate(t *testing.T, db *pgtest.DB) store.AssociationCounts {
	t.Helper()
	var c store.AssociationCounts
	err := store.InTx(context.Background(), db.Pool, func(tx pgx.Tx) error {
		if err := store.LockAssociation(context.Background(), tx); err != nil {
			return err
		}
		var err error
		c, err = store.Associate(context.Background(), tx, ny)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAssociationCascade(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	loadFleet(t, db, smallFleet())
	type want = txnState
	cases := []struct {
		name string
		txn  txnOpts
		want want
	}{
		{"tag before it moved", txnOpts{tag: "1111", at: nyAt(1, 15, 8, 0)},
			want{Status: "associated", Method: "tag", LeaseRef: "LA", DriverTLC: "5000001", VIN: vin1}},
		{"tag after it moved to vehicle 2; no primary: first by position", txnOpts{tag: "1111", at: nyAt(3, 15, 8, 0)},
			want{Status: "associated", Method: "tag", LeaseRef: "LD", DriverTLC: "5000002", VIN: vin2}},
		{"plate, a minute before the same-day hand-over", txnOpts{state: "NY", plate: "T1C", at: nyAt(2, 10, 13, 59)},
			want{Status: "associated", Method: "plate", LeaseRef: "LA", DriverTLC: "5000001", VIN: vin1}},
		{"plate, at the hand-over: next lease, primary wins over position", txnOpts{state: "NY", plate: "T1C", at: nyAt(2, 10, 14, 0)},
			want{Status: "associated", Method: "plate", LeaseRef: "LB", DriverTLC: "5000003", VIN: vin1}},
		{"credit is associated too", txnOpts{kind: "credit", amount: -500, tag: "1111", at: nyAt(1, 20, 8, 0)},
			want{Status: "associated", Method: "tag", LeaseRef: "LA", DriverTLC: "5000001", VIN: vin1}},
		{"unknown tag", txnOpts{tag: "00123456789", at: nyAt(1, 15, 8, 0)},
			want{Status: "association_failed", Code: "NO_VEHICLE", Message: "No vehicle found for tag 00123456789"}},
		{"unknown plate", txnOpts{state: "NY", plate: "T123456C", at: nyAt(1, 15, 8, 0)},
			want{Status: "association_failed", Code: "NO_VEHICLE", Message: "No vehicle found for plate NY T123456C"}},
		{"plate of another state", txnOpts{state: "NJ", plate: "T1C", at: nyAt(1, 15, 8, 0)},
			want{Status: "association_failed", Code: "NO_VEHICLE", Message: "No vehicle found for plate NJ T1C"}},
		{"tag before any binding", txnOpts{tag: "1111", at: nyAt(1, 1, 0, 0).Add(-time.Minute)},
			want{Status: "association_failed", Code: "NO_VEHICLE", Message: "No vehicle found for tag 1111"}},
		{"gap between leases, with the nearest ones", txnOpts{state: "NY", plate: "T2C", at: nyAt(2, 3, 12, 0)},
			want{Status: "association_failed", Code: "NO_ACTIVE_LEASE", VIN: vin2,
				Message: "No active lease on 2025-02-03 12:00 EST for vehicle " + vin2,
				Hint:    "Previous lease LC ended 2025-02-01 00:00 EST (2d 12h 0m before); next lease LD starts 2025-02-05 09:00 EST (1d 21h 0m after)"}},
		{"after the last lease, in summer time", txnOpts{tag: "1111", at: nyAt(6, 15, 10, 0)},
			want{Status: "association_failed", Code: "NO_ACTIVE_LEASE", VIN: vin2,
				Message: "No active lease on 2025-06-15 10:00 EDT for vehicle " + vin2,
				Hint:    "Previous lease LD ended 2025-06-01 00:00 EDT (14d 10h 0m before); no later lease"}},
		{"lease without driver", txnOpts{tag: "3333", at: nyAt(2, 1, 8, 0)},
			want{Status: "association_failed", Code: "NO_DRIVER", LeaseRef: "LE", VIN: vin3, Message: "No driver assigned to lease LE"}},
		{"payments are not matched", txnOpts{kind: "payment", amount: -5000, tag: "1111", at: nyAt(1, 15, 8, 0)},
			want{Status: "imported"}},
		{"manual choice is sticky", txnOpts{tag: "1111", at: nyAt(1, 15, 8, 0), status: "associated", matchMethod: "manual", leaseRef: "LA", driverTLC: "5000004"},
			want{Status: "associated", Method: "manual", LeaseRef: "LA", DriverTLC: "5000004", VIN: vin1}},
		{"manual choice is sticky even when failed", txnOpts{tag: "1111", at: nyAt(1, 15, 8, 0), status: "association_failed", matchMethod: "manual"},
			want{Status: "association_failed", Method: "manual"}},
	}
	ids := make([]int64, len(cases))
	for i, tc := range cases {
		ids[i] = insertTxn(t, db, tc.txn)
	}
	c := associate(t, db)
	for i, tc := range cases {
		if got := stateOf(t, db, ids[i]); got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
	if c.Candidates != 12 || c.ByTag != 3 || c.ByPlate != 2 || c.Failed["NO_VEHICLE"] != 4 || c.Failed["NO_ACTIVE_LEASE"] != 2 ||
		c.Failed["NO_DRIVER"] != 1 || c.Changed != 12 {
		t.Fatalf("counts = %+v", c)
	}

	// Idempotent: a second run finds the same and rewrites nothing.
	again := associate(t, db)
	if again.Changed != 0 || again.Candidates != 7 || again.Associated() != 0 {
		t.Fatalf("second run = %+v", again)
	}

	// A fleet change fixes a failure: a lease for vehicle 2 in June.
	loadFleet(t, db, store.FleetBatch{
		Leases:       []store.LeaseRow{{Line: 1, Ref: "LF", VIN: vin2, Medallion: "1A02", From: nyAt(6, 1, 0, 0), To: nyAt(7, 1, 0, 0), Active: true}},
		LeaseDrivers: []store.LeaseDriverRow{{Line: 1, LeaseRef: "LF", TLC: "5000004", Primary: true, Position: 1}},
	})
	third := associate(t, db)
	if third.ByTag != 1 || third.Changed != 1 {
		t.Fatalf("after the fleet change = %+v", third)
	}
	if got := stateOf(t, db, ids[10]); got.Status != "associated" || got.LeaseRef != "LF" || got.DriverTLC != "5000004" || got.Hint != "" {
		t.Fatalf("summer toll after the new lease = %+v", got)
	}
}

// TestAssociateAnalyzesStaleTolls imports rows no one analyzed (autovacuum
// may be off): association refreshes the tolls' statistics before it
// plans, and does not when they are current.
func TestAssociateAnalyzesStaleTolls(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	insertTxn(t, db, txnOpts{tag: "1111", at: nyAt(3, 20, 9, 0)})
	if _, err := db.Pool.Exec(ctx, `INSERT INTO ezpass_transactions (account, dedupe_key, row_hash, import_id, line, kind, agency, txn_at, amount_cents, raw)
		SELECT 'main', 'S' || g, 'h', (SELECT max(id) FROM ezpass_imports), g, 'toll', 'NJTP', now() - g * interval '1 minute', 100, '{}'
		FROM generate_series(1, 5000) g`); err != nil {
		t.Fatal(err)
	}
	reltuples := func() float64 {
		var n float64
		if err := db.Pool.QueryRow(ctx, `SELECT reltuples FROM pg_class WHERE oid = 'ezpass_transactions'::regclass`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := reltuples(); n >= 1000 {
		t.Fatalf("reltuples %v before association; the test needs stale statistics", n)
	}
	err := store.InTx(ctx, db.Pool, func(tx pgx.Tx) error {
		if err := store.LockAssociation(ctx, tx); err != nil {
			return err
		}
		_, err := store.Associate(ctx, tx, ny)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := reltuples(); n < 4000 {
		t.Fatalf("reltuples %v after association; want the 5,001 rows analyzed", n)
	}
	// The association rewrote every row (a new version each); once
	// analyzed, the statistics are current and nothing runs again.
	if _, err := store.AnalyzeTolls(ctx, db.Pool); err != nil {
		t.Fatal(err)
	}
	if analyzed, err := store.AnalyzeTollsIfStale(ctx, db.Pool); err != nil || analyzed {
		t.Fatalf("fresh statistics analyzed again: %v, %v", analyzed, err)
	}
}
