package jobs

import (
	"context"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"

	"recondesk/internal/app"
	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

// TestLedgerCheckBalancesIsPeriodicAndAudits: the check is a daily
// periodic job, unique while queued; its worker audits a broken
// driver_balances row and completes.
func TestLedgerCheckBalancesIsPeriodicAndAudits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if n := len(ledgerPeriodic()); n != 1 {
		t.Fatalf("%d periodic ledger jobs, want 1", n)
	}

	db := pgtest.New(t)
	a := app.New(app.Deps{Pool: db.Pool, Logger: slog.New(slog.DiscardHandler)})
	if _, err := db.Pool.Exec(ctx, `INSERT INTO driver_balances VALUES (424242, 100, 1, now(), now())`); err != nil {
		t.Fatal(err)
	}
	w := rivertest.NewWorker(t, riverpgxv5.New(db.Pool), &river.Config{}, river.Worker[LedgerCheckBalancesArgs](&LedgerCheckBalancesWorker{App: a}))
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	res, err := w.Work(ctx, t, tx, LedgerCheckBalancesArgs{}, nil)
	if err != nil || res.EventKind != river.EventKindJobCompleted {
		t.Fatalf("work = %+v, %v", res, err)
	}
	evs, err := store.ListAudit(ctx, db.Pool, store.AuditFilter{SubjectType: "driver", SubjectID: "424242"})
	if err != nil || len(evs) != 1 || evs[0].Action != "ledger.balance_mismatch" {
		t.Fatalf("audit = %+v, %v", evs, err)
	}

	client, err := NewClient(Deps{Pool: db.Pool, App: a, Logger: slog.New(slog.DiscardHandler)}, RoleWeb)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := client.Insert(ctx, LedgerCheckBalancesArgs{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	rows, _ := db.Pool.Query(ctx, `SELECT id FROM river_job WHERE kind = 'ledger.check_balances'`)
	ids, _ := pgx.CollectRows(rows, pgx.RowTo[int64])
	if len(ids) != 1 {
		t.Errorf("%d ledger.check_balances jobs queued, want 1", len(ids))
	}
}
