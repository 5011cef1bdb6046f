package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"recondesk/internal/app"
	"recondesk/internal/apperror"
	"recondesk/internal/demo"
	"recondesk/internal/ezpass"
	"recondesk/internal/jobs"
	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

var nyc = func() *time.Location {
	l, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	return l
}()

// setup returns an App on a fresh database with a River client (web role:
// jobs are inserted, not worked).
func setup(t *testing.T, d app.EZPassImportDeps) (*app.App, *pgtest.DB) {
	t.Helper()
	db := pgtest.New(t)
	a := app.New(app.Deps{Pool: db.Pool, Logger: slog.New(slog.DiscardHandler), EZPass: app.EZPassDeps{Import: d}})
	if _, err := jobs.NewClient(jobs.Deps{App: a, Pool: db.Pool, Logger: slog.New(slog.DiscardHandler)}, jobs.RoleWeb); err != nil {
		t.Fatal(err)
	}
	return a, db
}

func csvA(t *testing.T, rows int, lane func(i int) string) []byte {
	t.Helper()
	var b bytes.Buffer
	err := demo.WriteEZPassCSV(&b, ezpass.FormatA, nyc, func(yield func(demo.EZPassRow) bool) {
		for i := range rows {
			if !yield(demo.EZPassRow{LaneTxnID: lane(i), TagOrPlate: "00812345678", Agency: "MTAB&T", ExitPlaza: "VERRAZANO", Class: "1",
				At: time.Date(2026, 1, 2, 7, 0, i%60, 0, nyc), Cents: 694, Kind: ezpass.KindToll}) {
				return
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func upload(name string, data []byte, account string) app.EZPassUpload {
	sum := sha256.Sum256(data)
	return app.EZPassUpload{Account: account, FileName: name, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), File: bytes.NewReader(data)}
}

func count(t *testing.T, db *pgtest.DB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestImportAccounts: labels are case-normalised, blank is the default,
// an unknown label is refused with a message naming the configured ones.
func TestImportAccounts(t *testing.T) {
	t.Parallel()
	a, _ := setup(t, app.EZPassImportDeps{Accounts: []string{"main", "fleet2"}, DefaultAccount: "main"})
	for in, want := range map[string]string{"": "main", " MAIN ": "main", "Fleet2": "fleet2"} {
		if got, err := a.EZPassAccount(in); err != nil || got != want {
			t.Errorf("EZPassAccount(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := a.StartImport(context.Background(), app.User(1), upload("a.csv", csvA(t, 1, func(i int) string { return "1" }), "other"))
	if apperror.CodeOf(err) != apperror.Invalid || !strings.Contains(apperror.MessageOf(err), "use one of: main, fleet2") {
		t.Errorf("unknown account: %v", err)
	}
}

// TestImportStopsAfterTooManyRowErrors (issue 8 item 5): a file of bad rows
// stops at the cap, fails with a clear message and applies nothing.
func TestImportStopsAfterTooManyRowErrors(t *testing.T) {
	t.Parallel()
	a, db := setup(t, app.EZPassImportDeps{})
	data := csvA(t, 3, func(i int) string { return fmt.Sprint(900000 + i) })
	for i := range 1500 {
		data = append(data, fmt.Sprintf("%d,00812345678,MTAB&T,,VERRAZANO,1,01/04/2026,08:00:00 AM,oops\r\n", 800000+i)...)
	}
	data = append(data, csvA(t, 3, func(i int) string { return fmt.Sprint(700000 + i) })[len("Lane Txn ID"):]...)
	imp, err := a.ImportFile(context.Background(), app.System("test"), bytes.NewReader(data), "bad.csv", "")
	if err != nil {
		t.Fatal(err)
	}
	if imp.Status != store.ImportFailed || imp.Errors != store.DefaultMaxRowErrors || imp.Inserted != 0 ||
		!strings.Contains(imp.Message, "probably not an E-ZPass export") {
		t.Errorf("import: %s, %d errors, %d inserted, %q; want failed at %d errors, nothing inserted", imp.Status, imp.Errors, imp.Inserted, imp.Message, store.DefaultMaxRowErrors)
	}
	if n := count(t, db, `SELECT count(*) FROM ezpass_transactions`); n != 0 {
		t.Errorf("%d transactions stored; want none", n)
	}
	if n := count(t, db, `SELECT count(*) FROM ezpass_import_errors WHERE import_id = $1`, imp.ID); n != store.DefaultMaxRowErrors {
		t.Errorf("%d row errors kept; want %d", n, store.DefaultMaxRowErrors)
	}
	if n := count(t, db, `SELECT count(*) FROM river_job WHERE kind = 'ezpass.associate'`); n != 0 {
		t.Errorf("%d association jobs; want none", n)
	}
}

// TestFailedImportDoesNotBlockTheSameFile (issue 8 item 6): after an import
// failed, the same file is accepted again (concurrently: exactly once).
func TestFailedImportDoesNotBlockTheSameFile(t *testing.T) {
	t.Parallel()
	a, db := setup(t, app.EZPassImportDeps{})
	ctx := context.Background()
	data := csvA(t, 5, func(i int) string { return fmt.Sprint(100 + i) })
	first, err := a.StartImport(ctx, app.User(1), upload("a.csv", data, ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.StartImport(ctx, app.User(1), upload("a.csv", data, "")); apperror.CodeOf(err) != apperror.Conflict {
		t.Fatalf("same file while queued: %v; want a conflict", err)
	}
	if err := a.FailImport(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted, refused := 0, 0
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := a.StartImport(ctx, app.User(1), upload("a.csv", data, ""))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				accepted++
			case apperror.CodeOf(err) == apperror.Conflict:
				refused++
			default:
				t.Errorf("re-upload: %v", err)
			}
		}()
	}
	wg.Wait()
	if accepted != 1 || refused != 29 {
		t.Errorf("30 re-uploads of a failed file: %d accepted, %d refused; want 1 and 29", accepted, refused)
	}
	got, _ := store.EZPassImportByID(ctx, db.Pool, first.ID)
	if got.Status != store.ImportFailed {
		t.Errorf("first import is %s; want still failed", got.Status)
	}
}

// TestRecoverImportsFailsOnlyStranded: a running import whose account lock
// is free (its process died) is failed; one whose run holds the lock is not.
func TestRecoverImportsFailsOnlyStranded(t *testing.T) {
	t.Parallel()
	a, db := setup(t, app.EZPassImportDeps{})
	ctx := context.Background()
	dead, err := a.StartImport(ctx, app.User(1), upload("dead.csv", csvA(t, 2, func(i int) string { return fmt.Sprint(10 + i) }), "main"))
	if err != nil {
		t.Fatal(err)
	}
	live, err := a.StartImport(ctx, app.User(1), upload("live.csv", csvA(t, 2, func(i int) string { return fmt.Sprint(20 + i) }), "other"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE ezpass_imports SET status = 'running' WHERE id IN ($1, $2)`, dead.ID, live.ID); err != nil {
		t.Fatal(err)
	}
	// A run in progress holds its account's lock.
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('ezpass.import:' || $1, 0))`, "other"); err != nil {
		t.Fatal(err)
	}
	ids, err := a.RecoverImports(ctx)
	if err != nil || len(ids) != 1 || ids[0] != dead.ID {
		t.Fatalf("RecoverImports = %v, %v; want [%d]", ids, err, dead.ID)
	}
	d, _ := store.EZPassImportByID(ctx, db.Pool, dead.ID)
	l, _ := store.EZPassImportByID(ctx, db.Pool, live.ID)
	if d.Status != store.ImportFailed || !strings.Contains(d.Message, "interrupted") || l.Status != store.ImportRunning {
		t.Errorf("after recovery: stranded %s %q, live %s; want failed and running", d.Status, d.Message, l.Status)
	}
	if n := count(t, db, `SELECT count(*) FROM audit_events WHERE subject_id = $1 AND reason = 'the import was interrupted'`, fmt.Sprint(dead.ID)); n != 1 {
		t.Errorf("%d audit events for the recovery; want 1", n)
	}
}

// TestSameLaneTxnUnderAnotherAccount: the same Lane Txn ID and agency with
// other data under another account is a conflict pointing to the first row
// (never postable); another agency's id is a different toll.
func TestSameLaneTxnUnderAnotherAccount(t *testing.T) {
	t.Parallel()
	a, db := setup(t, app.EZPassImportDeps{})
	ctx := context.Background()
	first, err := a.ImportFile(ctx, app.System("test"), bytes.NewReader(csvA(t, 2, func(i int) string { return fmt.Sprint(4000 + i) })), "a.csv", "main")
	if err != nil || first.Inserted != 2 {
		t.Fatalf("first import: %+v %v", first, err)
	}
	var b bytes.Buffer
	_ = demo.WriteEZPassCSV(&b, ezpass.FormatA, nyc, func(yield func(demo.EZPassRow) bool) {
		// Same id and agency, other amount: a conflict.
		if !yield(demo.EZPassRow{LaneTxnID: "4000", TagOrPlate: "00812345678", Agency: "mtab&t", ExitPlaza: "VERRAZANO", Class: "1",
			At: time.Date(2026, 1, 2, 7, 0, 0, 0, nyc), Cents: 999, Kind: ezpass.KindToll}) {
			return
		}
		// Same id, another agency: a toll of its own.
		yield(demo.EZPassRow{LaneTxnID: "4001", TagOrPlate: "00812345678", Agency: "PANYNJ", ExitPlaza: "GWB", Class: "1",
			At: time.Date(2026, 1, 2, 7, 0, 1, 0, nyc), Cents: 1606, Kind: ezpass.KindToll})
	})
	second, err := a.ImportFile(ctx, app.System("test"), bytes.NewReader(b.Bytes()), "b.csv", "fleet2")
	if err != nil || second.Inserted != 1 || second.Conflicts != 1 || second.Duplicates != 0 {
		t.Fatalf("second import: inserted %d conflicts %d duplicates %d (%v); want 1, 1, 0", second.Inserted, second.Conflicts, second.Duplicates, err)
	}
	var conflictOf, origID int64
	var origAccount string
	if err := db.Pool.QueryRow(ctx, `SELECT c.conflict_of, o.id, o.account FROM ezpass_transactions c
		JOIN ezpass_transactions o ON o.dedupe_key = c.dedupe_key AND o.conflict_of IS NULL AND o.account = 'main'
		WHERE c.import_id = $1 AND c.status = 'conflict'`, second.ID).Scan(&conflictOf, &origID, &origAccount); err != nil {
		t.Fatal(err)
	}
	if conflictOf != origID {
		t.Errorf("the conflict points to %d; want the first row %d under main", conflictOf, origID)
	}
	if n := count(t, db, `SELECT count(*) FROM ezpass_transactions WHERE account = 'fleet2' AND status = 'imported' AND agency = 'PANYNJ'`); n != 1 {
		t.Errorf("%d PANYNJ tolls under fleet2; want 1", n)
	}
}

// TestSchemaLimitsTextColumns: the database refuses an over-long agency
// even when a writer skips the parser (which refuses it first).
func TestSchemaLimitsTextColumns(t *testing.T) {
	t.Parallel()
	_, db := setup(t, app.EZPassImportDeps{})
	_, err := db.Pool.Exec(context.Background(), `WITH i AS (INSERT INTO ezpass_imports (account, file_name, size_bytes, sha256, created_by)
		VALUES ('main', 'a', 1, 'x', 't') RETURNING id)
		INSERT INTO ezpass_transactions (account, dedupe_key, row_hash, import_id, line, kind, agency, txn_at, amount_cents, raw)
		SELECT 'main', 'k', 'h', i.id, 2, 'toll', repeat('A', 101), now(), 1, '{}' FROM i`)
	if err == nil || !strings.Contains(err.Error(), "ezpass_transactions_text_len") {
		t.Errorf("over-long agency: %v; want the check constraint", err)
	}
}
