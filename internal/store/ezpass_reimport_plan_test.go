package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"recondesk/internal/demo"
	"recondesk/internal/ezpass"
	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

// TestEZPassReimportProbesByKey: re-importing rows that are all stored
// costs a few index pages per row, whatever the table's statistics (here
// stale: autovacuum is off and nothing analysed the rows just imported).
// Before an index led by dedupe_key for originals (00401, now the unique key 00900), the look-up of
// a key's original walked the whole (account, dedupe_key) index for every
// staged row: about 44 pages per row at 10k stored rows, growing with the
// table (a 50k-row re-import took 71 s against 3.6 s to import them fresh).
func TestEZPassReimportProbesByKey(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	const n = 8000
	var data bytes.Buffer
	if err := demo.WriteEZPassCSV(&data, ezpass.FormatA, nyc, manyRows(8_000_000, n)); err != nil {
		t.Fatal(err)
	}
	imp := runImport(t, db, "stored.csv", "acct", data.Bytes())
	checkCounts(t, imp, store.ImportSucceeded, counts{read: n, inserted: n})

	// Stage the stored rows again, as a re-import of the same file would,
	// and measure the classification (it inserts nothing: all duplicates).
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, store.StagingSQL); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO ezpass_staging (n, line, dedupe_key, lane_txn_id, row_hash, kind, excluded_reason,
		tag_or_plate, tag, plate_state, plate, agency, entry_plaza, exit_plaza, vehicle_class, txn_at, posted_on, amount_cents, raw)
		SELECT id, line, dedupe_key, lane_txn_id, row_hash, kind, excluded_reason, tag_or_plate, tag, plate_state, plate, agency,
			entry_plaza, exit_plaza, vehicle_class, txn_at, posted_on, amount_cents, raw::text
		FROM ezpass_transactions`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `ANALYZE ezpass_staging`); err != nil {
		t.Fatal(err)
	}
	var out []byte
	if err := tx.QueryRow(ctx, `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) `+store.ApplySQL, "acct", imp.ID).Scan(&out); err != nil {
		t.Fatal(err)
	}
	var plan []struct {
		Plan struct {
			SharedHit  int `json:"Shared Hit Blocks"`
			SharedRead int `json:"Shared Read Blocks"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal(out, &plan); err != nil || len(plan) != 1 {
		t.Fatalf("plan %s: %v", out, err)
	}
	pages := plan[0].Plan.SharedHit + plan[0].Plan.SharedRead
	t.Logf("re-import of %d stored rows: %d shared pages (%.1f per row)", n, pages, float64(pages)/n)
	if pages > 12*n {
		t.Errorf("re-import of %d stored rows read %d pages (%.1f per row); want a few index probes per row (≤ 12)\n%s",
			n, pages, float64(pages)/n, out)
	}
	var stored int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM ezpass_transactions`).Scan(&stored); err != nil || stored != n {
		t.Errorf("%d rows stored after the re-import (%v); want %d: all duplicates", stored, err, n)
	}
}

// TestEZPassReimportLinear (opt-in: RECONDESK_SCALE_TESTS=1, 15–30 s
// here): re-importing 50k stored rows costs about 5× re-importing 10k,
// not 25×. Measured on this machine before 00401: 10k in 3.2 s, 50k in
// 84 s (fresh imports 1.1 s and 6.6 s); after: 0.25 s and 1.2 s.
func TestEZPassReimportLinear(t *testing.T) {
	if os.Getenv("RECONDESK_SCALE_TESTS") == "" {
		t.Skip("set RECONDESK_SCALE_TESTS=1 to measure the re-import at 10k and 50k rows")
	}
	var took [2]time.Duration
	for i, n := range []int{10_000, 50_000} {
		db := pgtest.New(t)
		var data bytes.Buffer
		if err := demo.WriteEZPassCSV(&data, ezpass.FormatA, nyc, manyRows(9_000_000, n)); err != nil {
			t.Fatal(err)
		}
		fresh := time.Now()
		runImport(t, db, "first.csv", "acct", data.Bytes())
		freshDur := time.Since(fresh)
		data.WriteString("\r\n") // other bytes, same rows
		began := time.Now()
		again := runImport(t, db, "again.csv", "acct", data.Bytes())
		took[i] = time.Since(began)
		checkCounts(t, again, store.ImportSucceeded, counts{read: n, duplicates: n})
		t.Logf("%d rows: fresh import %v, re-import of all duplicates %v", n, freshDur.Round(time.Millisecond), took[i].Round(time.Millisecond))
	}
	if r := took[1].Seconds() / took[0].Seconds(); r > 12 {
		t.Errorf("re-import of 50k rows took %.1f× that of 10k; want about 5× (linear)", r)
	}
}
