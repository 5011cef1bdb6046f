package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/xuri/excelize/v2"

	"recondesk/internal/apperror"
	"recondesk/internal/demo"
	"recondesk/internal/ezpass"
	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

var nyc = func() *time.Location {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	return loc
}()

// importFile records a file as an upload of account and returns the import.
func importFile(t *testing.T, db *pgtest.DB, name, account string, data []byte) store.EZPassImport {
	t.Helper()
	imp, err := createImport(db, name, account, data)
	if err != nil {
		t.Fatalf("create import %s: %v", name, err)
	}
	return imp
}

func createImport(db *pgtest.DB, name, account string, data []byte) (store.EZPassImport, error) {
	ctx := context.Background()
	sum := sha256.Sum256(data)
	var imp store.EZPassImport
	err := store.InTx(ctx, db.Pool, func(tx pgx.Tx) error {
		var err error
		imp, err = store.CreateEZPassImport(ctx, tx, store.NewEZPassImport{
			Account: account, FileName: name, CreatedBy: "user:1", TimeZone: "America/New_York",
			SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data)), File: bytes.NewReader(data),
		})
		return err
	})
	return imp, err
}

// runImport uploads and loads a file.
func runImport(t *testing.T, db *pgtest.DB, name, account string, data []byte, opts ...store.ImportOptions) store.EZPassImport {
	t.Helper()
	imp := importFile(t, db, name, account, data)
	var o store.ImportOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	out, err := store.RunEZPassImport(context.Background(), db.Pool, imp.ID, o)
	if err != nil {
		t.Fatalf("run import %s: %v", name, err)
	}
	return out
}

// rowA is a format A toll of the given lane id, tag and amount on 2026-01-0d.
func rowA(lane, tag string, day int, cents int64) demo.EZPassRow {
	return demo.EZPassRow{LaneTxnID: lane, TagOrPlate: tag, Agency: "MTAB&T", ExitPlaza: "VERRAZANO", Class: "1",
		At: time.Date(2026, 1, day, 7, 42, 13, 0, nyc), Cents: cents, Kind: ezpass.KindToll}
}

func csvA(t *testing.T, rows ...demo.EZPassRow) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := demo.WriteEZPassCSV(&b, ezpass.FormatA, nyc, func(yield func(demo.EZPassRow) bool) {
		for _, r := range rows {
			if !yield(r) {
				return
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type counts struct{ read, inserted, duplicates, conflicts, errors int }

func checkCounts(t *testing.T, imp store.EZPassImport, status string, want counts) {
	t.Helper()
	got := counts{imp.RowsRead, imp.Inserted, imp.Duplicates, imp.Conflicts, imp.Errors}
	if imp.Status != status || got != want {
		t.Errorf("import %s: status %s counts %+v; want %s %+v (message %q)", imp.FileName, imp.Status, got, status, want, imp.Message)
	}
}

func countRows(t *testing.T, db *pgtest.DB, where string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM ezpass_transactions WHERE `+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEZPassImportDedupeOnReimportAndOverlap(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	var first, second []demo.EZPassRow
	for i := range 10 {
		first = append(first, rowA(strings.Repeat("1", 6)+string(rune('0'+i)), "00812345678", 1+i, 694))
	}
	// The second export overlaps the first by half: five rows again, five new.
	second = append(second, first[5:]...)
	for i := range 5 {
		second = append(second, rowA(strings.Repeat("2", 6)+string(rune('0'+i)), "00812345679", 11+i, 331))
	}
	imp1 := runImport(t, db, "jan.csv", "main", csvA(t, first...))
	checkCounts(t, imp1, store.ImportSucceeded, counts{read: 10, inserted: 10})
	if imp1.Format != "A" || imp1.Tolls != 10 {
		t.Errorf("format %q tolls %d; want A, 10", imp1.Format, imp1.Tolls)
	}
	imp2 := runImport(t, db, "jan-overlap.csv", "main", csvA(t, second...))
	checkCounts(t, imp2, store.ImportSucceeded, counts{read: 10, inserted: 5, duplicates: 5})

	// The same rows in other bytes (LF instead of CRLF): nothing new.
	again := bytes.ReplaceAll(csvA(t, first...), []byte("\r\n"), []byte("\n"))
	imp3 := runImport(t, db, "jan-lf.csv", "main", again)
	checkCounts(t, imp3, store.ImportSucceeded, counts{read: 10, inserted: 0, duplicates: 10})

	// The same tolls under another account label are the same tolls
	// (issue 8: never stored, so never posted, twice): duplicates.
	imp4 := runImport(t, db, "jan-other.csv", "fleet-2", append(again, '\n'))
	checkCounts(t, imp4, store.ImportSucceeded, counts{read: 10, inserted: 0, duplicates: 10})

	if n := countRows(t, db, `account = 'main'`); n != 15 {
		t.Errorf("main holds %d transactions; want 15", n)
	}
	if n := countRows(t, db, `status = 'imported' AND kind = 'toll' AND amount_cents > 0`); n != 15 {
		t.Errorf("%d imported tolls; want 15", n)
	}
}

func TestEZPassImportSameFileRefused(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	data := csvA(t, rowA("900001", "00812345678", 2, 694))
	first := runImport(t, db, "a.csv", "main", data)
	_, err := createImport(db, "renamed.csv", "other", data)
	var dup *store.DuplicateImportError
	if !errors.As(err, &dup) || dup.Existing.ID != first.ID {
		t.Fatalf("second upload: %v; want a DuplicateImportError naming import %d", err, first.ID)
	}
	if apperror.CodeOf(err) != apperror.Conflict || !strings.Contains(apperror.MessageOf(err), "/ezpass/imports/") {
		t.Errorf("code %s message %q; want conflict with a link", apperror.CodeOf(err), apperror.MessageOf(err))
	}
	var n int
	_ = db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM ezpass_imports`).Scan(&n)
	if n != 1 {
		t.Errorf("%d imports recorded; want 1", n)
	}
}

func TestEZPassImportConflicts(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	orig := rowA("700001", "00812345678", 3, 694)
	imp1 := runImport(t, db, "one.csv", "main", csvA(t, orig, rowA("700002", "00812345678", 4, 694)))
	checkCounts(t, imp1, store.ImportSucceeded, counts{read: 2, inserted: 2})

	changed := orig
	changed.Cents = 794
	imp2 := runImport(t, db, "two.csv", "main", csvA(t, changed, rowA("700003", "00812345678", 5, 694)))
	checkCounts(t, imp2, store.ImportSucceeded, counts{read: 2, inserted: 1, conflicts: 1})

	var origID, origCents, confOf, confCents int64
	var confStatus string
	if err := db.Pool.QueryRow(ctx, `SELECT id, amount_cents FROM ezpass_transactions WHERE dedupe_key = '700001' AND conflict_of IS NULL`).Scan(&origID, &origCents); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.QueryRow(ctx, `SELECT conflict_of, amount_cents, status FROM ezpass_transactions WHERE dedupe_key = '700001' AND conflict_of IS NOT NULL`).Scan(&confOf, &confCents, &confStatus); err != nil {
		t.Fatal(err)
	}
	if origCents != 694 || confOf != origID || confCents != 794 || confStatus != "conflict" {
		t.Errorf("original %d¢, conflict of %d (want %d) %d¢ %s; want the original untouched at 694¢ and a conflict row at 794¢",
			origCents, confOf, origID, confCents, confStatus)
	}

	// The same conflicting version again adds nothing; a third version is a second conflict.
	third := orig
	third.Cents = 894
	imp3 := runImport(t, db, "three.csv", "main", csvA(t, changed, third))
	checkCounts(t, imp3, store.ImportSucceeded, counts{read: 2, inserted: 0, duplicates: 1, conflicts: 1})
	if n := countRows(t, db, `dedupe_key = '700001'`); n != 3 {
		t.Errorf("%d rows for 700001; want original + 2 conflicts", n)
	}
}

func TestEZPassImportWithinFileRepeats(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	a := rowA("800001", "00812345678", 6, 694)
	b := a
	b.Cents = 700
	// Line 2 new, line 3 repeats it, line 4 changes it (conflict), line 5 repeats the change.
	imp := runImport(t, db, "repeats.csv", "main", csvA(t, a, a, b, b, rowA("800002", "00812345678", 7, 694)))
	checkCounts(t, imp, store.ImportSucceeded, counts{read: 5, inserted: 2, duplicates: 2, conflicts: 1})
	var line int
	_ = db.Pool.QueryRow(context.Background(), `SELECT line FROM ezpass_transactions WHERE dedupe_key = '800001' AND conflict_of IS NULL`).Scan(&line)
	if line != 2 {
		t.Errorf("original from line %d; want the first occurrence, line 2", line)
	}
}

func TestEZPassImportRowErrors(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	good := csvA(t, rowA("600001", "00812345678", 8, 694), rowA("600002", "00812345678", 9, 694), rowA("600003", "00812345678", 10, 694))
	lines := strings.Split(string(good), "\r\n")
	lines[2] = strings.Replace(lines[2], "$-6.94", "six dollars", 1)    // line 3: bad amount
	lines[3] = strings.Replace(lines[3], "01/10/2026", "2026-13-45", 1) // line 4: bad date
	imp := runImport(t, db, "some-bad.csv", "main", []byte(strings.Join(lines, "\r\n")))
	checkCounts(t, imp, store.ImportPartial, counts{read: 3, inserted: 1, errors: 2})
	if !strings.Contains(imp.Message, "2 of 3 rows") {
		t.Errorf("message %q; want it to say 2 of 3 rows could not be read", imp.Message)
	}
	errs, err := store.ListEZPassImportErrors(ctx, db.Pool, imp.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 2 || errs[0].Line != 3 || errs[0].Column != "Amount" || errs[0].Value != "six dollars" ||
		errs[1].Line != 4 || errs[1].Column != "Date" || !strings.Contains(errs[1].Message, "not a date") {
		t.Errorf("row errors %+v; want line 3 Amount 'six dollars', line 4 Date", errs)
	}
	var streamed []int
	if err := store.EachEZPassImportError(ctx, db.Pool, imp.ID, func(e store.EZPassImportError) error {
		streamed = append(streamed, e.Line)
		return nil
	}); err != nil || len(streamed) != 2 {
		t.Errorf("streamed errors %v, %v; want lines 3 and 4", streamed, err)
	}
	page2, _ := store.ListEZPassImportErrors(ctx, db.Pool, imp.ID, 3, 10)
	if len(page2) != 1 || page2[0].Line != 4 {
		t.Errorf("errors after line 3: %+v; want line 4 only", page2)
	}
}

func TestEZPassImportFailures(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	allBad := "Lane Txn ID,Tag/Plate #,Agency,Entry Plaza,Exit Plaza,Class,Date,Exit Time,Amount\r\n" +
		"1,00812345678,MTAB&T,,VERRAZANO,1,01/02/2026,07:42:13 AM,lots\r\n" +
		"2,00812345678,MTAB&T,,VERRAZANO,1,not a date,07:42:13 AM,$-6.94\r\n"
	imp := runImport(t, db, "all-bad.csv", "main", []byte(allBad))
	checkCounts(t, imp, store.ImportFailed, counts{read: 2, errors: 2})
	if !strings.Contains(imp.Message, "None of the 2 rows") {
		t.Errorf("message %q", imp.Message)
	}

	unknown := "Txn,Plate,When,How much\r\n1,NY T1,01/02/2026,$1.00\r\n"
	imp = runImport(t, db, "unknown.csv", "main", []byte(unknown))
	checkCounts(t, imp, store.ImportFailed, counts{})
	if !strings.Contains(imp.Message, "not a known E-ZPass export") || !strings.Contains(imp.Message, "missing column") ||
		!strings.Contains(imp.Message, "found: Txn, Plate, When, How much") {
		t.Errorf("message %q; want the parser's missing/found columns", imp.Message)
	}
	if n := countRows(t, db, `true`); n != 0 {
		t.Errorf("%d transactions stored from failed imports; want 0", n)
	}
	// The original bytes are kept even when the import fails.
	var buf bytes.Buffer
	if _, err := store.CopyEZPassImportFile(context.Background(), db.Pool, imp, &buf); err != nil || buf.String() != unknown {
		t.Errorf("stored file %q, %v; want the original bytes", buf.String(), err)
	}
}

// TestEZPassImportXLSXOverCaps: a workbook unpacking beyond the cap fails
// with the parser's message before anything is unpacked.
func TestEZPassImportXLSXOverCaps(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	f := excelize.NewFile()
	sw, _ := f.NewStreamWriter("Sheet1")
	_ = sw.SetRow("A1", []any{"Lane Txn ID", "Tag/Plate #", "Agency", "Entry Plaza", "Exit Plaza", "Class", "Date", "Exit Time", "Amount"})
	filler := strings.Repeat("0", 1000)
	for i := 2; i < 3000; i++ { // ~3 MB of sheet XML that compresses to a few KB
		cell, _ := excelize.CoordinatesToCellName(1, i)
		_ = sw.SetRow(cell, []any{filler, "00812345678", "MTAB&T", "", "VERRAZANO", "1", "01/02/2026", "07:42:13 AM", "$-6.94"})
	}
	_ = sw.Flush()
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 200<<10 {
		t.Fatalf("test workbook is %d bytes; want a small, highly compressed file", buf.Len())
	}
	imp := runImport(t, db, "bomb.xlsx", "main", buf.Bytes(), store.ImportOptions{MaxXLSXUnzipBytes: 1 << 20})
	checkCounts(t, imp, store.ImportFailed, counts{})
	if !strings.Contains(imp.Message, "too large to import") || !strings.Contains(imp.Message, "1.0 MiB") {
		t.Errorf("message %q; want the unpacked-size cap", imp.Message)
	}
}

func TestEZPassImportSerialisedPerAccount(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	// Hold the account's lock as another import would.
	holder, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(ctx)
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('ezpass.import:' || $1, 0))`, "main"); err != nil {
		t.Fatal(err)
	}
	imp1 := importFile(t, db, "one.csv", "main", csvA(t, rowA("500001", "00812345678", 2, 694)))
	imp2 := importFile(t, db, "two.csv", "main", csvA(t, rowA("500002", "00812345678", 3, 694)))
	other := importFile(t, db, "other.csv", "fleet-2", csvA(t, rowA("500003", "00812345678", 4, 694)))

	// Another account is not held up.
	if got, err := store.RunEZPassImport(ctx, db.Pool, other.ID, store.ImportOptions{}); err != nil || got.Status != store.ImportSucceeded {
		t.Fatalf("other account: %v %v", got.Status, err)
	}
	var wg sync.WaitGroup
	results := make([]store.EZPassImport, 2)
	for i, id := range []int64{imp1.ID, imp2.ID} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := store.RunEZPassImport(ctx, db.Pool, id, store.ImportOptions{})
			if err != nil {
				t.Error(err)
			}
			results[i] = got
		}()
	}
	// Wait until both runs wait for the account's lock (no fixed sleep).
	for deadline := time.Now().Add(30 * time.Second); ; {
		var waiting int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d runs wait for the account's lock; want 2", waiting)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, id := range []int64{imp1.ID, imp2.ID} {
		got, _ := store.EZPassImportByID(ctx, db.Pool, id)
		if got.Status != store.ImportQueued {
			t.Errorf("import %d is %s while the account is locked; want queued", id, got.Status)
		}
	}
	if err := holder.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	a, b := results[0], results[1]
	if a.Status != store.ImportSucceeded || b.Status != store.ImportSucceeded {
		t.Fatalf("statuses %s, %s", a.Status, b.Status)
	}
	if a.StartedAt.After(*b.StartedAt) {
		a, b = b, a
	}
	if b.StartedAt.Before(*a.FinishedAt) {
		t.Errorf("imports overlapped: %v–%v and %v–%v", a.StartedAt, a.FinishedAt, b.StartedAt, b.FinishedAt)
	}
}

func TestEZPassImportDemoSamples(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	fleet := demo.Generate(demo.Options{Seed: 7, Vehicles: 40})
	samples, err := demo.EZPassSamples(fleet)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range samples {
		imp := runImport(t, db, s.Name, "main", s.Data)
		k := s.Kinds()
		n := len(s.Rows)
		checkCounts(t, imp, store.ImportSucceeded, counts{read: n, inserted: n - s.Duplicates - s.Conflicts, duplicates: s.Duplicates, conflicts: s.Conflicts})
		if imp.Format != string(s.Format) || imp.Tolls != k[ezpass.KindToll] || imp.Credits != k[ezpass.KindCredit] ||
			imp.Payments != k[ezpass.KindPayment] || imp.TagFees != k[ezpass.KindTagFee] || imp.Excluded != k[ezpass.KindExcluded] {
			t.Errorf("sample %d: format %s kinds t%d c%d p%d f%d e%d; want %s %v", i, imp.Format, imp.Tolls, imp.Credits, imp.Payments, imp.TagFees, imp.Excluded, s.Format, k)
		}
		if k[ezpass.KindPayment] == 0 || k[ezpass.KindTagFee] == 0 || (i != 1 && k[ezpass.KindExcluded] == 0) {
			t.Errorf("sample %d lacks payments, tag fees or excluded rows: %v", i, k)
		}
		out, err := store.EZPassImportOutcomesOf(ctx, db.Pool, imp)
		if err != nil {
			t.Fatal(err)
		}
		if got := out.ByKind["toll"]; got.Read != k[ezpass.KindToll] || got.Duplicates != s.Duplicates || got.Conflicts != s.Conflicts {
			t.Errorf("sample %d toll outcomes %+v", i, got)
		}
	}
	if n := countRows(t, db, `kind IN ('payment', 'tag_fee', 'excluded') AND status <> 'excluded'`); n != 0 {
		t.Errorf("%d payments, fees or excluded rows are not excluded", n)
	}
	if n := countRows(t, db, `status = 'conflict'`); n != 1 {
		t.Errorf("%d conflicts; want 1", n)
	}
}
