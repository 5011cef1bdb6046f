package store_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"recondesk/internal/demo"
	"recondesk/internal/ezpass"
	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

// manyRows are n distinct format A tolls.
func manyRows(first, n int) func(yield func(demo.EZPassRow) bool) {
	return func(yield func(demo.EZPassRow) bool) {
		for i := range n {
			if !yield(rowA(fmt.Sprint(first+i), "00812345678", 1+i%28, int64(500+i%300))) {
				return
			}
		}
	}
}

// TestEZPassImportProgressAdvances (issue 9): while a multi-chunk import
// runs, its row shows bytes read between 0 and the total and live counts
// (inserted included); at the end bytes read equal the total (CSV: the
// file's size; XLSX: the sheet's uncompressed XML).
func TestEZPassImportProgressAdvances(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	const n = 3000
	var csvData, xlsxData bytes.Buffer
	if err := demo.WriteEZPassCSV(&csvData, ezpass.FormatA, nyc, manyRows(5_000_000, n)); err != nil {
		t.Fatal(err)
	}
	if err := demo.WriteEZPassXLSX(&xlsxData, ezpass.FormatA, nyc, manyRows(6_000_000, n)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, account string
		data          []byte
	}{{"progress.csv", "csv", csvData.Bytes()}, {"progress.xlsx", "xlsx", xlsxData.Bytes()}} {
		imp := importFile(t, db, tc.name, tc.account, tc.data)
		done := make(chan error, 1)
		var final store.EZPassImport
		go func() {
			var err error
			final, err = store.RunEZPassImport(ctx, db.Pool, imp.ID, store.ImportOptions{ProgressEvery: 20})
			done <- err
		}()
		// Poll the import's row under a row lock: once progress shows, the
		// lock is already held, so the import's next progress update (and
		// its end) waits and this snapshot is mid-import. (NO KEY UPDATE:
		// the import's transaction holds KEY SHARE on its row through the
		// transactions' foreign key.)
		var mid store.EZPassImport
		for deadline := time.Now().Add(2 * time.Minute); ; {
			tx, err := db.Pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			err = tx.QueryRow(ctx, `SELECT status, rows_read, inserted, bytes_read, bytes_total FROM ezpass_imports WHERE id = $1 FOR NO KEY UPDATE`,
				imp.ID).Scan(&mid.Status, &mid.RowsRead, &mid.Inserted, &mid.BytesRead, &mid.BytesTotal)
			_ = tx.Rollback(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if mid.BytesRead > 0 || !mid.Active() || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		if mid.Status != store.ImportRunning || mid.BytesRead <= 0 || mid.BytesRead >= mid.BytesTotal ||
			mid.RowsRead <= 0 || mid.RowsRead >= n {
			t.Errorf("%s mid-import: %s, %d rows read, %d inserted, %d of %d bytes; want running, 0 < bytes read < total, live counts",
				tc.name, mid.Status, mid.RowsRead, mid.Inserted, mid.BytesRead, mid.BytesTotal)
		}
		if p := mid.Percent(); p < 0 || p >= 100 {
			t.Errorf("%s mid-import percent %d", tc.name, p)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		checkCounts(t, final, store.ImportSucceeded, counts{read: n, inserted: n})
		if final.BytesRead != final.BytesTotal || final.BytesTotal <= 0 {
			t.Errorf("%s at the end: %d of %d bytes read", tc.name, final.BytesRead, final.BytesTotal)
		}
		if tc.account == "csv" && final.BytesTotal != int64(len(tc.data)) {
			t.Errorf("CSV total %d bytes; want the file's %d", final.BytesTotal, len(tc.data))
		}
		if tc.account == "xlsx" && final.BytesTotal <= int64(len(tc.data)) {
			t.Errorf("XLSX total %d bytes; want the sheet's uncompressed XML, larger than the %d-byte file", final.BytesTotal, len(tc.data))
		}
	}
}

// TestEZPassImportChunksApplyLikeOneStep: whatever the chunk size, repeats
// and changes of a key across chunks end as when the file is applied at
// once (first occurrence original, changed data a conflict, the same data a
// duplicate), and a file stopped by too many row errors stores nothing even
// though earlier chunks were applied.
func TestEZPassImportChunksApplyLikeOneStep(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	a := rowA("810001", "00812345678", 6, 694)
	b := a
	b.Cents = 700
	rows := []demo.EZPassRow{a, rowA("810002", "00812345678", 7, 694), a, b, rowA("810003", "00812345678", 8, 694), b, a}
	// Each run in its own account with its own lane ids (a toll is stored
	// once whatever the account), and other bytes (a trailing blank line).
	for i, every := range []int{1, 2, 3, 100} {
		account := fmt.Sprintf("chunk%d", every)
		var rs []demo.EZPassRow
		for _, r := range rows {
			r.LaneTxnID += fmt.Sprint(i)
			rs = append(rs, r)
		}
		imp := runImport(t, db, account+".csv", account, csvA(t, rs...), store.ImportOptions{ProgressEvery: every})
		// a new, 810002 new, a again, b changed (conflict), 810003 new, b again, a again.
		checkCounts(t, imp, store.ImportSucceeded, counts{read: 7, inserted: 3, duplicates: 3, conflicts: 1})
		var line int
		_ = db.Pool.QueryRow(context.Background(), `SELECT line FROM ezpass_transactions WHERE dedupe_key = $1 AND conflict_of IS NULL`,
			"810001"+fmt.Sprint(i)).Scan(&line)
		if line != 2 {
			t.Errorf("chunks of %d: original from line %d; want the first occurrence, line 2", every, line)
		}
	}

	var bad bytes.Buffer
	bad.Write(csvA(t, rowA("820001", "00812345678", 6, 694), rowA("820002", "00812345678", 6, 694)))
	for i := range 30 {
		fmt.Fprintf(&bad, "%d,00812345678,MTAB&T,,VERRAZANO,1,01/04/2026,08:00:00 AM,oops\r\n", 830000+i)
	}
	imp := runImport(t, db, "bad.csv", "bad", bad.Bytes(), store.ImportOptions{ProgressEvery: 2, MaxRowErrors: 10})
	if imp.Status != store.ImportFailed || imp.Errors != 10 || imp.Inserted != 0 {
		t.Errorf("capped import: %s, %d errors, %d inserted", imp.Status, imp.Errors, imp.Inserted)
	}
	if n := countRows(t, db, `import_id = $1`, imp.ID); n != 0 {
		t.Errorf("%d transactions of the capped import stored; want none", n)
	}
	var kept int
	_ = db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM ezpass_import_errors WHERE import_id = $1`, imp.ID).Scan(&kept)
	if kept != 10 {
		t.Errorf("%d row errors kept; want 10", kept)
	}
}
