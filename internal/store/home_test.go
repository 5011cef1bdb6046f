package store_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"recondesk/internal/apperror"
	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

// liveHomeSummary computes the Home figures from the rows themselves, as
// Home did before the rollups: the reference the rollups must match.
func liveHomeSummary(t *testing.T, db *pgtest.DB, now time.Time) (tolls, matched, candidates, failures int, weeks []int64) {
	t.Helper()
	ctx := context.Background()
	local := now.In(ny)
	month := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, ny)
	err := db.Pool.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE kind = 'toll' AND created_at >= $1),
			count(*) FILTER (WHERE kind IN ('toll', 'credit') AND created_at >= $1 AND status IN ('associated', 'posted')),
			count(*) FILTER (WHERE kind IN ('toll', 'credit') AND created_at >= $1 AND status <> 'conflict'),
			count(*) FILTER (WHERE status IN ('association_failed', 'posting_failed'))
		FROM ezpass_transactions`, month).Scan(&tolls, &matched, &candidates, &failures)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, ny)
	monday := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	for i := 7; i >= 0; i-- {
		from := monday.AddDate(0, 0, -7*i)
		var cents int64
		if err := db.Pool.QueryRow(ctx, `SELECT coalesce(sum(e.amount_cents), 0) FROM ledger_journals j JOIN ledger_entries e ON e.journal_id = j.id
			WHERE j.source_type = 'EZPASS' AND e.account LIKE 'driver:%' AND j.posted_at >= $1 AND j.posted_at < $2`,
			from, from.AddDate(0, 0, 7)).Scan(&cents); err != nil {
			t.Fatal(err)
		}
		weeks = append(weeks, cents)
	}
	return tolls, matched, candidates, failures, weeks
}

func checkHome(t *testing.T, db *pgtest.DB, now time.Time, step int) {
	t.Helper()
	ctx := context.Background()
	if n, err := store.RollupDrift(ctx, db.Pool); err != nil || n != 0 {
		t.Fatalf("step %d: rollup drift %d cells (%v)", step, n, err)
	}
	s, err := store.EZPassHomeSummary(ctx, db.Pool, now, ny)
	if err != nil {
		t.Fatal(err)
	}
	tolls, matched, candidates, failures, weeks := liveHomeSummary(t, db, now)
	if s.TollsThisMonth != tolls || s.MatchedThisMonth != matched || s.MatchCandidates != candidates || s.FailuresWaiting != failures {
		t.Fatalf("step %d: summary %+v, rows say tolls %d matched %d candidates %d failures %d", step, s, tolls, matched, candidates, failures)
	}
	for i, w := range s.Weeks {
		if w.Cents != weeks[i] {
			t.Fatalf("step %d: week %s posted %d, rows say %d", step, w.Week, w.Cents, weeks[i])
		}
	}
}

// TestHomeRollupsFollowImportsAssociationPostingAndReassignment runs a
// fixed-seed random sequence of the operations that change transactions
// and the ledger, and checks after each that the hourly rollups equal the
// rows and that Home's figures equal those computed from the rows.
func TestHomeRollupsFollowImportsAssociationPostingAndReassignment(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	loadFleet(t, db, smallFleet())
	now := time.Now()
	r := rand.New(rand.NewPCG(10, 140))
	leases := map[string][]string{"LA": {"5000001"}, "LB": {"5000002", "5000003"}, "LD": {"5000002", "5000004"}}
	spots := []txnOpts{
		{state: "NY", plate: "T1C", at: nyAt(1, 20, 9, 0)}, {state: "NY", plate: "T1C", at: nyAt(2, 20, 9, 0)},
		{tag: "1111", at: nyAt(3, 20, 9, 0)}, {tag: "404", at: nyAt(3, 21, 9, 0)}, {state: "NY", plate: "T1C", at: nyAt(3, 25, 9, 0)},
	}
	var tolls []int64
	for step := range 80 {
		switch op := r.IntN(10); {
		case op < 4:
			o := spots[r.IntN(len(spots))]
			o.amount = int64(r.IntN(3000) + 1)
			id := insertTxn(t, db, o)
			// Some rows were imported last month or a week ago.
			back := []time.Duration{0, 0, 7 * 24 * time.Hour, 40 * 24 * time.Hour}[r.IntN(4)]
			if _, err := db.Pool.Exec(ctx, `UPDATE ezpass_transactions SET created_at = created_at - $2::interval WHERE id = $1`, id, back.String()); err != nil {
				t.Fatal(err)
			}
			tolls = append(tolls, id)
		case op < 6:
			associate(t, db)
		case op < 8:
			post(t, db)
		default:
			if len(tolls) == 0 {
				continue
			}
			ref := []string{"LA", "LB", "LD"}[r.IntN(3)]
			tlc := leases[ref][r.IntN(len(leases[ref]))]
			_, err := assign(db, store.AssignInput{TxnIDs: []int64{tolls[r.IntN(len(tolls))]}, LeaseID: leaseID(t, db, ref),
				DriverID: driverID(t, db, tlc), Reason: "check", Actor: "user:1"})
			if err != nil && apperror.CodeOf(err) != apperror.Rule {
				t.Fatalf("step %d: assign: %v", step, err)
			}
		}
		checkHome(t, db, now, step)
	}
	s, err := store.EZPassHomeSummary(ctx, db.Pool, now, ny)
	if err != nil {
		t.Fatal(err)
	}
	if s.TollsThisMonth == 0 || s.FailuresWaiting == 0 || s.Weeks[len(s.Weeks)-1].Cents == 0 {
		t.Fatalf("the sequence left nothing to count (%+v); the test is too weak", s)
	}
}

// TestHomeRollupsHoldUnderConcurrentWriters has 30 writers insert and
// update transactions at once in the same hour: the rollup rows they share
// end up equal to the rows.
func TestHomeRollupsHoldUnderConcurrentWriters(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	loadFleet(t, db, smallFleet())
	first := insertTxn(t, db, txnOpts{tag: "1111", at: nyAt(3, 20, 9, 0)})
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for i := range 30 {
		wg.Go(func() {
			_, err := db.Pool.Exec(ctx, `INSERT INTO ezpass_transactions (account, dedupe_key, row_hash, import_id, line, kind, txn_at, amount_cents, raw, status, failure_code)
				SELECT account, dedupe_key || '-' || $2::int, row_hash, import_id, line, kind, txn_at, amount_cents, raw,
					CASE WHEN $2::int % 2 = 0 THEN 'association_failed' ELSE 'imported' END, CASE WHEN $2::int % 2 = 0 THEN 'NO_VEHICLE' ELSE '' END
				FROM ezpass_transactions WHERE id = $1`, first, i)
			if err == nil {
				_, err = db.Pool.Exec(ctx, `UPDATE ezpass_transactions SET status = 'excluded' WHERE dedupe_key LIKE '%-' || $1::int::text AND $1::int % 3 = 0`, i)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	checkHome(t, db, time.Now(), 0)
	s, _ := store.EZPassHomeSummary(ctx, db.Pool, time.Now(), ny)
	if s.TollsThisMonth != 31 {
		t.Fatalf("tolls this month %d, want 31", s.TollsThisMonth)
	}
}
