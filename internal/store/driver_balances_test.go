package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/apperror"
	"recondesk/internal/ledger"
	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

// checkDriverBalances fails unless driver_balances holds exactly one row per
// driver account with entries, equal to their sum and count (read here with
// its own query, and through store.CheckDriverBalances).
func checkDriverBalances(t *testing.T, db *pgtest.DB, step int) {
	t.Helper()
	ctx := context.Background()
	wrong := id(t, db, `SELECT count(*) FROM driver_balances b
		FULL JOIN (SELECT account, sum(amount_cents) AS cents, count(*) AS n FROM ledger_entries
			WHERE account LIKE 'driver:%' GROUP BY account) s ON s.account = 'driver:' || b.driver_id
		WHERE b.balance_cents IS DISTINCT FROM s.cents OR b.entries IS DISTINCT FROM s.n`)
	if wrong != 0 {
		t.Fatalf("step %d: %d drivers whose driver_balances row differs from their entries", step, wrong)
	}
	m, err := store.CheckDriverBalances(ctx, db.Pool)
	if err != nil || len(m) != 0 {
		t.Fatalf("step %d: CheckDriverBalances = %+v, %v", step, m, err)
	}
}

// TestDriverBalancesFollowRandomPostReverseReassociate runs a fixed-seed
// random sequence of tolls, association, posting, manual re-associations
// (reversal and repost) and journals written directly, and checks after
// every step that driver_balances equals the entries.
func TestDriverBalancesFollowRandomPostReverseReassociate(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	loadFleet(t, db, smallFleet())
	r := rand.New(rand.NewPCG(10, 150))
	leases := map[string][]string{"LA": {"5000001"}, "LB": {"5000002", "5000003"}, "LD": {"5000002", "5000004"}}
	spots := []txnOpts{
		{state: "NY", plate: "T1C", at: nyAt(1, 20, 9, 0)}, {state: "NY", plate: "T1C", at: nyAt(2, 20, 9, 0)},
		{tag: "1111", at: nyAt(3, 20, 9, 0)}, {state: "NY", plate: "T1C", at: nyAt(3, 25, 9, 0)},
	}
	tlcs := []string{"5000001", "5000002", "5000003", "5000004"}
	var tolls []int64
	direct := 0
	for step := range 150 {
		switch op := r.IntN(12); {
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
		case op < 10:
			if len(tolls) == 0 {
				continue
			}
			refs := []string{"LA", "LB", "LD"}
			ref := refs[r.IntN(len(refs))]
			tlc := leases[ref][r.IntN(len(leases[ref]))]
			_, err := assign(db, store.AssignInput{TxnIDs: []int64{tolls[r.IntN(len(tolls))]}, LeaseID: leaseID(t, db, ref),
				DriverID: driverID(t, db, tlc), Reason: "property", Actor: "user:1"})
			if err != nil && apperror.CodeOf(err) != apperror.Rule {
				t.Fatalf("step %d: assign: %v", step, err)
			}
		default:
			// A journal written directly (two drivers in one statement), then its reversal.
			direct++
			a, b := driverID(t, db, tlcs[r.IntN(4)]), driverID(t, db, tlcs[r.IntN(4)])
			j := ledger.Journal{SourceType: "TEST", SourceID: fmt.Sprint(direct), Kind: ledger.KindCharge, TxnAt: time.Now(),
				Description: "direct", CreatedBy: "test", Entries: []ledger.Entry{
					{Account: ledger.DriverAccount(a), AmountCents: 700, DriverID: a},
					{Account: ledger.DriverAccount(b), AmountCents: -300, DriverID: b},
					{Account: ledger.ClearingEZPass, AmountCents: -400},
				}}
			err := store.InTx(ctx, db.Pool, func(tx pgx.Tx) error {
				w, err := store.WriteJournals(ctx, tx, []ledger.Journal{j})
				if err != nil || r.IntN(2) == 0 {
					return err
				}
				_, err = store.WriteJournals(ctx, tx, []ledger.Journal{ledger.Reverse(j, w[0].ID, "test")})
				return err
			})
			if err != nil {
				t.Fatalf("step %d: direct journal: %v", step, err)
			}
		}
		checkDriverBalances(t, db, step)
	}
	if n := id(t, db, `SELECT count(*) FROM ledger_journals WHERE kind = 'reversal' AND source_type = 'EZPASS'`); n == 0 {
		t.Fatal("the sequence never reversed a posting; the test is too weak")
	}
	if n := id(t, db, `SELECT count(*) FROM driver_balances`); n < 3 {
		t.Fatalf("only %d drivers have balances; the test is too weak", n)
	}
}

// TestDriverBalancesExactUnderConcurrentPostings writes 30 transactions at
// once, each posting journals to the same four drivers (in a random order,
// several statements per transaction); the table ends equal to the entries
// and to the amounts the test wrote.
func TestDriverBalancesExactUnderConcurrentPostings(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	loadFleet(t, db, smallFleet())
	var drivers []int64
	for _, tlc := range []string{"5000001", "5000002", "5000003", "5000004"} {
		drivers = append(drivers, driverID(t, db, tlc))
	}
	want := map[int64]int64{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for g := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			mine := map[int64]int64{}
			var js [][]ledger.Journal
			for s := range 3 {
				var batch []ledger.Journal
				for k, d := range r.Perm(len(drivers)) {
					amount := int64(r.IntN(5000) + 1)
					batch = append(batch, ledger.Journal{SourceType: "TEST", SourceID: fmt.Sprintf("%d-%d-%d", g, s, k), Kind: ledger.KindCharge,
						TxnAt: time.Now(), Description: "concurrent", CreatedBy: "test", Entries: []ledger.Entry{
							{Account: ledger.DriverAccount(drivers[d]), AmountCents: amount, DriverID: drivers[d]},
							{Account: ledger.ClearingEZPass, AmountCents: -amount},
						}})
					mine[drivers[d]] += amount
				}
				js = append(js, batch)
			}
			err := store.InTx(ctx, db.Pool, func(tx pgx.Tx) error {
				for _, batch := range js {
					if _, err := store.WriteJournals(ctx, tx, batch); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			for d, c := range mine {
				want[d] += c
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a posting transaction failed: %v", err)
	}
	checkDriverBalances(t, db, 0)
	for _, d := range drivers {
		got := id(t, db, `SELECT balance_cents FROM driver_balances WHERE driver_id = $1`, d)
		if got != want[d] {
			t.Fatalf("driver %d: balance %d, want %d", d, got, want[d])
		}
		if n := id(t, db, `SELECT entries FROM driver_balances WHERE driver_id = $1`, d); n != 90 {
			t.Fatalf("driver %d: %d entries, want 90", d, n)
		}
	}
}

// TestCheckDriverBalancesFindsBrokenRows breaks one row, deletes another
// and adds one for a driver without entries: the check names all three.
func TestCheckDriverBalancesFindsBrokenRows(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	loadFleet(t, db, smallFleet())
	insertTxn(t, db, txnOpts{state: "NY", plate: "T1C", at: nyAt(3, 1, 8, 0), amount: 1706}) // LB: 5000003
	insertTxn(t, db, txnOpts{state: "NY", plate: "T1C", at: nyAt(1, 20, 8, 0), amount: 250}) // LA: 5000001
	associate(t, db)
	post(t, db)
	checkDriverBalances(t, db, 0)
	d1, d3, d4 := driverID(t, db, "5000001"), driverID(t, db, "5000003"), driverID(t, db, "5000004")
	if _, err := db.Pool.Exec(ctx, `UPDATE driver_balances SET balance_cents = balance_cents + 1 WHERE driver_id = $1`, d3); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM driver_balances WHERE driver_id = $1`, d1); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO driver_balances VALUES ($1, 5, 1, now(), now())`, d4); err != nil {
		t.Fatal(err)
	}
	got, err := store.CheckDriverBalances(ctx, db.Pool)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]store.BalanceMismatch{
		d1: {DriverID: d1, TableCents: 0, EntriesCents: 250, TableEntries: 0, EntryCount: 1},
		d3: {DriverID: d3, TableCents: 1707, EntriesCents: 1706, TableEntries: 1, EntryCount: 1},
		d4: {DriverID: d4, TableCents: 5, EntriesCents: 0, TableEntries: 1, EntryCount: 0},
	}
	if len(got) != len(want) {
		t.Fatalf("mismatches = %+v", got)
	}
	for _, m := range got {
		if want[m.DriverID] != m {
			t.Fatalf("mismatch %+v, want %+v", m, want[m.DriverID])
		}
	}
}

// TestDriverBalancesPageFromTheTable lists balances largest first, pages by
// offset, filters by name, and reads the statement's balance from the table.
func TestDriverBalancesPageFromTheTable(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	loadFleet(t, db, smallFleet())
	insertTxn(t, db, txnOpts{state: "NY", plate: "T1C", at: nyAt(3, 1, 8, 0), amount: 1706}) // 5000003
	insertTxn(t, db, txnOpts{state: "NY", plate: "T1C", at: nyAt(1, 20, 8, 0), amount: 250}) // 5000001
	associate(t, db)
	post(t, db)
	all, err := store.DriverBalances(ctx, db.Pool, "", 10, 0)
	if err != nil || len(all) != 2 || all[0].TLC != "5000003" || all[0].BalanceCents != 1706 || all[0].Entries != 1 ||
		!all[0].LastTxnAt.Equal(nyAt(3, 1, 8, 0)) || all[1].TLC != "5000001" || all[1].BalanceCents != 250 {
		t.Fatalf("balances = %+v, %v", all, err)
	}
	second, err := store.DriverBalances(ctx, db.Pool, "", 1, 1)
	if err != nil || len(second) != 1 || second[0].TLC != "5000001" {
		t.Fatalf("second page = %+v, %v", second, err)
	}
	dana, err := store.DriverBalances(ctx, db.Pool, "dana", 10, 0)
	if err != nil || len(dana) != 1 || dana[0].TLC != "5000001" {
		t.Fatalf("filtered = %+v, %v", dana, err)
	}
	// The statement's balance is the table's row (broken here on purpose).
	d3 := driverID(t, db, "5000003")
	if _, err := db.Pool.Exec(ctx, `UPDATE driver_balances SET balance_cents = 99 WHERE driver_id = $1`, d3); err != nil {
		t.Fatal(err)
	}
	p, err := store.DriverStatementPage(ctx, db.Pool, store.StatementPageQuery{DriverID: d3})
	if err != nil || p.Balance != 99 || p.Closing != 99 || len(p.Lines) != 1 {
		t.Fatalf("statement = %+v, %v", p, err)
	}
}
