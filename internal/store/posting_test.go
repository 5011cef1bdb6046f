package store_test

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/apperror"
	"recondesk/internal/ledger"
	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

func post(t *testing.T, db *pgtest.DB) store.PostingCounts {
	t.Helper()
	c, err := store.Post(context.Background(), db.Pool, "system:ezpass.post", 3)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func driverID(t *testing.T, db *pgtest.DB, tlc string) int64 {
	return id(t, db, `SELECT id FROM drivers WHERE tlc_license = $1`, tlc)
}

func leaseID(t *testing.T, db *pgtest.DB, ref string) int64 {
	return id(t, db, `SELECT id FROM leases WHERE ref = $1`, ref)
}

func balance(t *testing.T, db *pgtest.DB, account string) int64 {
	return id(t, db, `SELECT coalesce(sum(amount_cents), 0) FROM ledger_entries WHERE account = $1`, account)
}

func assign(db *pgtest.DB, in store.AssignInput) (store.AssignResult, error) {
	var res store.AssignResult
	err := store.InTx(context.Background(), db.Pool, func(tx pgx.Tx) error {
		var err error
		res, err = store.Assign(context.Background(), tx, in, ny)
		return err
	})
	return res, err
}

func TestLedgerIsBalancedAndImmutableInTheDatabase(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	loadFleet(t, db, smallFleet())
	insertTxn(t, db, txnOpts{tag: "1111", at: nyAt(1, 15, 8, 0)})
	associate(t, db)
	post(t, db)

	// An unbalanced journal is refused at commit.
	err := store.InTx(ctx, db.Pool, func(tx pgx.Tx) error {
		var jid int64
		if err := tx.QueryRow(ctx, `INSERT INTO ledger_journals (source_type, source_id, kind, txn_at, description, created_by)
			VALUES ('TEST', '1', 'charge', now(), 'unbalanced', 'test') RETURNING id`).Scan(&jid); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO ledger_entries (journal_id, account, amount_cents) VALUES ($1, 'driver:1', 100), ($1, 'clearing:ezpass', -99)`, jid)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "unbalanced") {
		t.Fatalf("unbalanced journal: err = %v", err)
	}
	// A journal without entries is refused too.
	_, err = db.Pool.Exec(ctx, `INSERT INTO ledger_journals (source_type, source_id, kind, txn_at, description, created_by)
		VALUES ('TEST', '2', 'charge', now(), 'empty', 'test')`)
	if err == nil || !strings.Contains(err.Error(), "unbalanced") {
		t.Fatalf("empty journal: err = %v", err)
	}
	for _, sql := range []string{
		`UPDATE ledger_entries SET amount_cents = amount_cents * 2`,
		`DELETE FROM ledger_entries`,
		`TRUNCATE ledger_entries`,
		`UPDATE ledger_journals SET description = 'changed'`,
		`DELETE FROM ledger_journals`,
		`TRUNCATE ledger_journals CASCADE`,
	} {
		if _, err := db.Pool.Exec(ctx, sql); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v; want append-only refusal", sql, err)
		}
	}
	if n := id(t, db, `SELECT count(*) FROM ledger_entries`); n != 2 {
		t.Fatalf("entries = %d; want the 2 of the posted toll", n)
	}
}

func TestPostingTwiceInsertsNothing(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	loadFleet(t, db, smallFleet())
	for i := range 7 {
		insertTxn(t, db, txnOpts{tag: "1111", at: nyAt(1, 2+i, 8, 0), amount: int64(100 + i)})
	}
	credit := insertTxn(t, db, txnOpts{kind: "credit", tag: "1111", at: nyAt(1, 20, 8, 0), amount: -250})
	zero := insertTxn(t, db, txnOpts{tag: "1111", at: nyAt(1, 21, 8, 0), amount: 0})
	db.Pool.Exec(ctx, `UPDATE ezpass_transactions SET amount_cents = 0 WHERE id = $1`, zero)
	associate(t, db)
	c := post(t, db)
	if c.Posted != 8 || c.JournalsInserted != 8 || c.EntriesInserted != 16 || c.Failed[store.PostFailZeroAmount] != 1 || c.Chunks != 3 {
		t.Fatalf("first posting = %+v", c)
	}
	wantAmount := int64(100+101+102+103+104+105+106) - 250
	if c.AmountCents != wantAmount || balance(t, db, "driver:"+itoa(driverID(t, db, "5000001"))) != wantAmount ||
		balance(t, db, ledger.ClearingEZPass) != -wantAmount {
		t.Fatalf("amount %d, balances wrong; want %d", c.AmountCents, wantAmount)
	}
	if s := stateOf(t, db, zero); s.Status != "posting_failed" || s.Code != "ZERO_AMOUNT" {
		t.Fatalf("zero toll = %+v", s)
	}
	// The credit's journal matches the pure rule.
	js, err := store.JournalsForSource(ctx, db.Pool, ledger.SourceEZPass, itoa(credit))
	if err != nil || len(js) != 1 {
		t.Fatalf("credit journals = %+v, %v", js, err)
	}
	want := ledger.Charge(ledger.Toll{ID: credit, Agency: "MTAB&T", Plaza: "RFK", PlateOrTag: "1111", AmountCents: -250, DriverID: driverID(t, db, "5000001")})
	if js[0].Description != want.Description || js[0].Entries[0].Account != want.Entries[0].Account || js[0].Entries[0].AmountCents != -250 {
		t.Fatalf("credit journal = %+v; want like %+v", js[0], want)
	}

	again := post(t, db)
	if again.Candidates != 0 || again.JournalsInserted != 0 {
		t.Fatalf("second posting = %+v", again)
	}
	// Even when rows are put back to associated, the unique key refuses a second charge.
	db.Pool.Exec(ctx, `UPDATE ezpass_transactions SET status = 'associated' WHERE status = 'posted'`)
	forced := post(t, db)
	if forced.Candidates != 8 || forced.JournalsInserted != 0 || forced.EntriesInserted != 0 || forced.Posted != 8 {
		t.Fatalf("forced re-posting = %+v", forced)
	}
	if n := id(t, db, `SELECT count(*) FROM ledger_journals`); n != 8 {
		t.Fatalf("journals = %d; want 8", n)
	}
}

func TestReassociatePostedTollReversesAndReposts(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	loadFleet(t, db, smallFleet())
	toll := insertTxn(t, db, txnOpts{state: "NY", plate: "T1C", at: nyAt(3, 1, 8, 0), amount: 1706})
	associate(t, db)
	post(t, db)
	d2, d3 := driverID(t, db, "5000002"), driverID(t, db, "5000003")
	if balance(t, db, "driver:"+itoa(d3)) != 1706 {
		t.Fatal("toll not posted to the primary driver of LB")
	}
	// A lease that did not cover the toll time is refused with a clear message.
	_, err := assign(db, store.AssignInput{TxnIDs: []int64{toll}, LeaseID: leaseID(t, db, "LA"), Reason: "wrong car", Actor: "user:1"})
	if apperror.CodeOf(err) != apperror.Rule || !strings.Contains(apperror.MessageOf(err), "Lease LA (from 2025-01-01 00:00 EST to 2025-02-10 14:00 EST) did not cover the toll") {
		t.Fatalf("uncovered lease: %v", err)
	}
	// A driver not on the lease is refused; a reason is required.
	if _, err := assign(db, store.AssignInput{TxnIDs: []int64{toll}, LeaseID: leaseID(t, db, "LB"), DriverID: driverID(t, db, "5000004"), Reason: "x", Actor: "user:1"}); apperror.CodeOf(err) != apperror.Rule {
		t.Fatalf("driver not on lease: %v", err)
	}
	if _, err := assign(db, store.AssignInput{TxnIDs: []int64{toll}, LeaseID: leaseID(t, db, "LB"), DriverID: d2, Actor: "user:1"}); apperror.CodeOf(err) != apperror.Invalid {
		t.Fatalf("no reason: %v", err)
	}

	res, err := assign(db, store.AssignInput{TxnIDs: []int64{toll}, LeaseID: leaseID(t, db, "LB"), DriverID: d2, Reason: "Dev drove that day", Actor: "user:1"})
	if err != nil || res.Reposted != 1 {
		t.Fatalf("reassign = %+v, %v", res, err)
	}
	if b := balance(t, db, "driver:"+itoa(d3)); b != 0 {
		t.Fatalf("old driver balance = %d; want 0", b)
	}
	if b := balance(t, db, "driver:"+itoa(d2)); b != 1706 {
		t.Fatalf("new driver balance = %d; want 1706", b)
	}
	s := stateOf(t, db, toll)
	if s.Status != "posted" || s.Method != "manual" || s.DriverTLC != "5000002" {
		t.Fatalf("after reassign = %+v", s)
	}
	js, _ := store.JournalsForSource(ctx, db.Pool, ledger.SourceEZPass, itoa(toll))
	if len(js) != 3 || js[0].Kind != "charge" || js[1].Kind != "reversal" || js[1].ReversalOf != js[0].ID || js[2].Generation != 1 {
		t.Fatalf("journals = %+v", js)
	}
	evs, _ := store.ListAudit(ctx, db.Pool, store.AuditFilter{SubjectType: "ezpass_transaction", SubjectID: itoa(toll)})
	if len(evs) != 1 || evs[0].Reason != "Dev drove that day" || evs[0].Action != "ezpass.reassociate" ||
		!strings.Contains(string(evs[0].Before), `"status": "posted"`) || !strings.Contains(string(evs[0].After), `"match_method": "manual"`) {
		t.Fatalf("audit = %+v", evs)
	}
	// Sticky: association leaves it alone.
	associate(t, db)
	if s := stateOf(t, db, toll); s.DriverTLC != "5000002" {
		t.Fatalf("association overwrote a manual choice: %+v", s)
	}
	// Bulk re-association needs one source lease.
	other := insertTxn(t, db, txnOpts{tag: "1111", at: nyAt(1, 15, 8, 0)})
	associate(t, db)
	if _, err := assign(db, store.AssignInput{TxnIDs: []int64{toll, other}, LeaseID: leaseID(t, db, "LB"), Reason: "bulk", Actor: "user:1"}); apperror.CodeOf(err) != apperror.Rule {
		t.Fatalf("bulk across leases: %v", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestLedgerInvariantsUnderRandomPostReassignRepost runs a fixed-seed random
// sequence of imports, association, posting and manual re-associations and
// checks the ledger's invariants after every step.
func TestLedgerInvariantsUnderRandomPostReassignRepost(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	loadFleet(t, db, smallFleet())
	r := rand.New(rand.NewPCG(42, 7))
	leases := map[string][]string{"LA": {"5000001"}, "LB": {"5000002", "5000003"}, "LD": {"5000002", "5000004"}}
	// Tolls inside LA/LB (vehicle 1 by plate) and LD (vehicle 2 by tag after March).
	spots := []txnOpts{
		{state: "NY", plate: "T1C", at: nyAt(1, 20, 9, 0)}, {state: "NY", plate: "T1C", at: nyAt(2, 20, 9, 0)},
		{tag: "1111", at: nyAt(3, 20, 9, 0)}, {state: "NY", plate: "T1C", at: nyAt(3, 25, 9, 0)},
	}
	var tolls []int64
	for step := range 200 {
		switch op := r.IntN(10); {
		case op < 3:
			o := spots[r.IntN(len(spots))]
			o.amount = int64(r.IntN(3000) - 500)
			if o.amount == 0 {
				o.amount = 1
			}
			if o.amount < 0 {
				o.kind = "credit"
			}
			tolls = append(tolls, insertTxn(t, db, o))
		case op < 5:
			associate(t, db)
		case op < 7:
			post(t, db)
		default:
			if len(tolls) == 0 {
				continue
			}
			txn := tolls[r.IntN(len(tolls))]
			refs := []string{"LA", "LB", "LD"}
			ref := refs[r.IntN(len(refs))]
			tlc := leases[ref][r.IntN(len(leases[ref]))]
			_, err := assign(db, store.AssignInput{TxnIDs: []int64{txn}, LeaseID: leaseID(t, db, ref), DriverID: driverID(t, db, tlc), Reason: "property", Actor: "user:1"})
			if err != nil && apperror.CodeOf(err) != apperror.Rule {
				t.Fatalf("step %d: assign: %v", step, err)
			}
		}
		checkLedgerInvariants(t, ctx, db, step)
	}
	if n := id(t, db, `SELECT count(*) FROM ledger_journals WHERE kind = 'reversal'`); n == 0 {
		t.Fatal("the sequence never reversed a posting; the property test is too weak")
	}
}

func checkLedgerInvariants(t *testing.T, ctx context.Context, db *pgtest.DB, step int) {
	t.Helper()
	var unbalanced, total, wrong int64
	err := db.Pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM (SELECT journal_id FROM ledger_entries GROUP BY 1 HAVING sum(amount_cents) <> 0 OR count(*) < 2) x),
		(SELECT coalesce(sum(amount_cents), 0) FROM ledger_entries WHERE account LIKE 'driver:%' OR account = 'clearing:ezpass'),
		(SELECT count(*) FROM ezpass_transactions t WHERE t.status = 'posted' AND (
			(SELECT coalesce(sum(e.amount_cents), 0) FROM ledger_entries e JOIN ledger_journals j ON j.id = e.journal_id
				WHERE j.source_type = 'EZPASS' AND j.source_id = t.id::text AND e.account = 'driver:' || t.driver_id) <> t.amount_cents
			OR EXISTS (SELECT 1 FROM ledger_entries e JOIN ledger_journals j ON j.id = e.journal_id
				WHERE j.source_type = 'EZPASS' AND j.source_id = t.id::text AND e.account LIKE 'driver:%'
				AND e.account <> 'driver:' || t.driver_id GROUP BY e.account HAVING sum(e.amount_cents) <> 0)))`).
		Scan(&unbalanced, &total, &wrong)
	if err != nil {
		t.Fatal(err)
	}
	if unbalanced != 0 || total != 0 || wrong != 0 {
		t.Fatalf("step %d: %d unbalanced journals, driver+clearing sum %d, %d posted tolls charged wrongly", step, unbalanced, total, wrong)
	}
}
