package app_test

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/app"
	"recondesk/internal/ledger"
	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

// postDirect writes one charge of cents to a new driver and returns the driver.
func postDirect(t *testing.T, db *pgtest.DB, name, tlc string, cents int64) int64 {
	t.Helper()
	ctx := context.Background()
	var d int64
	if err := db.Pool.QueryRow(ctx, `INSERT INTO drivers (name, tlc_license) VALUES ($1, $2) RETURNING id`, name, tlc).Scan(&d); err != nil {
		t.Fatal(err)
	}
	err := store.InTx(ctx, db.Pool, func(tx pgx.Tx) error {
		_, err := store.WriteJournals(ctx, tx, []ledger.Journal{{SourceType: "TEST", SourceID: tlc, Kind: ledger.KindCharge,
			TxnAt: time.Now(), Description: "test", CreatedBy: "test", Entries: []ledger.Entry{
				{Account: ledger.DriverAccount(d), AmountCents: cents, DriverID: d},
				{Account: ledger.ClearingEZPass, AmountCents: -cents},
			}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestCheckDriverBalancesLogsAndAuditsAMismatch: a consistent ledger
// yields nothing; a broken driver_balances row is returned, logged without
// the driver's name and audited as ledger.balance_mismatch.
func TestCheckDriverBalancesLogsAndAuditsAMismatch(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	var logs bytes.Buffer
	a := app.New(app.Deps{Pool: db.Pool, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	good := postDirect(t, db, "Gail Good", "7000001", 1200)
	bad := postDirect(t, db, "Bob Broken", "7000002", 800)
	actor := app.System("ledger.check_balances")

	if m, err := a.CheckDriverBalances(ctx, actor); err != nil || len(m) != 0 {
		t.Fatalf("consistent ledger: %+v, %v", m, err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE driver_balances SET balance_cents = 5 WHERE driver_id = $1`, bad); err != nil {
		t.Fatal(err)
	}
	m, err := a.CheckDriverBalances(ctx, actor)
	if err != nil || len(m) != 1 || m[0] != (store.BalanceMismatch{DriverID: bad, TableCents: 5, EntriesCents: 800, TableEntries: 1, EntryCount: 1}) {
		t.Fatalf("broken row: %+v, %v", m, err)
	}
	out := logs.String()
	if !strings.Contains(out, "driver_id="+strconv.FormatInt(bad, 10)) || strings.Contains(out, "Bob") || strings.Contains(out, "driver_id="+strconv.FormatInt(good, 10)) {
		t.Fatalf("log = %s", out)
	}
	evs, err := store.ListAudit(ctx, db.Pool, store.AuditFilter{SubjectType: "driver", SubjectID: strconv.FormatInt(bad, 10)})
	if err != nil || len(evs) != 1 || evs[0].Action != "ledger.balance_mismatch" || evs[0].Actor != "system:ledger.check_balances" ||
		!strings.Contains(string(evs[0].After), `"balance_cents": 800`) {
		t.Fatalf("audit = %+v, %v", evs, err)
	}
}
