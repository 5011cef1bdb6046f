package store_test

import (
	"context"
	"testing"
	"time"

	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

// TestDriverStatementPagesByKeysetWithRunningBalances posts 230 tolls to
// one driver and walks the statement from the newest page to the oldest and
// back: pages of at most 100 lines, newest first, every running balance the
// sum of the driver's entries up to that line, each page's opening balance
// the next older page's closing balance.
func TestDriverStatementPagesByKeysetWithRunningBalances(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	loadFleet(t, db, smallFleet())
	for i := range 230 {
		insertTxn(t, db, txnOpts{tag: "1111", at: nyAt(3, 20, 9, 0).Add(time.Duration(i) * time.Minute), amount: int64(100 + i)})
	}
	associate(t, db)
	post(t, db)
	driver := id(t, db, `SELECT driver_id FROM ezpass_transactions WHERE status = 'posted' LIMIT 1`)
	want := map[int64]int64{} // journal → running balance in posting order
	rows, err := db.Pool.Query(ctx, `SELECT journal_id, sum(amount_cents) OVER (ORDER BY id) FROM ledger_entries WHERE account = 'driver:' || $1::bigint`, driver)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var j, run int64
		if err := rows.Scan(&j, &run); err != nil {
			t.Fatal(err)
		}
		want[j] = run
	}
	if len(want) != 230 {
		t.Fatalf("%d entries posted, want 230", len(want))
	}
	balance := balance(t, db, "driver:"+itoa(driver))

	var pages []store.StatementPage
	q := store.StatementPageQuery{DriverID: driver}
	for {
		p, err := store.DriverStatementPage(ctx, db.Pool, q)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p)
		if p.Balance != balance || len(p.Lines) > 100 || len(p.Lines) == 0 {
			t.Fatalf("page %d: balance %d (want %d), %d lines", len(pages), p.Balance, balance, len(p.Lines))
		}
		for i, l := range p.Lines {
			if l.RunningCents != want[l.JournalID] {
				t.Fatalf("page %d line %d: running %d, want %d", len(pages), i, l.RunningCents, want[l.JournalID])
			}
			if i > 0 && l.JournalID >= p.Lines[i-1].JournalID {
				t.Fatalf("page %d: not newest first", len(pages))
			}
			if l.TxnID == 0 || l.Agency != "MTAB&T" {
				t.Fatalf("page %d line %d: toll not joined: %+v", len(pages), i, l)
			}
		}
		if p.Closing != p.Lines[0].RunningCents || p.Opening != p.Lines[len(p.Lines)-1].RunningCents-p.Lines[len(p.Lines)-1].AmountCents {
			t.Fatalf("page %d: closing %d opening %d", len(pages), p.Closing, p.Opening)
		}
		if p.Older == 0 {
			break
		}
		q = store.StatementPageQuery{DriverID: driver, Before: p.Older}
	}
	if len(pages) != 3 || len(pages[0].Lines) != 100 || len(pages[2].Lines) != 30 || pages[0].Newer != 0 || pages[2].Opening != 0 {
		t.Fatalf("%d pages (%d, %d lines), first newer %d, last opening %d", len(pages), len(pages[0].Lines), len(pages[len(pages)-1].Lines), pages[0].Newer, pages[len(pages)-1].Opening)
	}
	if pages[1].Opening != pages[2].Closing || pages[0].Opening != pages[1].Closing || pages[0].Closing != balance {
		t.Fatal("pages do not chain their balances")
	}
	// Back from the oldest page to the newer one: the same lines.
	back, err := store.DriverStatementPage(ctx, db.Pool, store.StatementPageQuery{DriverID: driver, After: pages[2].Newer})
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Lines) != 100 || back.Lines[0].JournalID != pages[1].Lines[0].JournalID || back.Lines[99].JournalID != pages[1].Lines[99].JournalID ||
		back.Newer == 0 || back.Older == 0 || back.Opening != pages[1].Opening {
		t.Fatalf("newer page from the oldest: %d lines, newer %d older %d", len(back.Lines), back.Newer, back.Older)
	}
	// A driver without entries: an empty page at balance zero.
	empty, err := store.DriverStatementPage(ctx, db.Pool, store.StatementPageQuery{DriverID: driverID(t, db, "5000004")})
	if err != nil || len(empty.Lines) != 0 || empty.Balance != 0 || empty.Older != 0 {
		t.Fatalf("empty statement: %+v, %v", empty, err)
	}
}
