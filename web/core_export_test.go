package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"recondesk/internal/auth"
)

// TestExportFailureIsVisible: a query that fails before anything is sent is
// an error status; one that fails mid-stream aborts the transfer, so the
// client never takes a truncated file for a complete one.
func TestExportFailureIsVisible(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_, err := b.db.Pool.Exec(ctx, `
		WITH imp AS (
			INSERT INTO ezpass_imports (account, file_name, size_bytes, sha256, created_by)
			VALUES ('main', 'big.csv', 1, 'x', 'test') RETURNING id)
		INSERT INTO ezpass_transactions (account, dedupe_key, row_hash, import_id, line, kind, txn_at, amount_cents, raw, agency, tag_or_plate)
		SELECT 'main', 'k' || g, 'h' || g, imp.id, g, 'toll', now() - g * interval '1 second', 125, '{}', 'NYSTA', 'TAG' || g
		FROM imp, generate_series(1, 200000) g`)
	if err != nil {
		t.Fatal(err)
	}
	finance := b.login(t, auth.Finance)

	// Mid-stream: read a little, kill the query's backend, read the rest.
	resp, err := finance.Get(b.srv.URL + "/ezpass/transactions/export.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export: %d", resp.StatusCode)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	killed := 0
	for deadline := time.Now().Add(10 * time.Second); killed == 0 && time.Now().Before(deadline); {
		_ = b.db.Pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE '%FROM ezpass_transactions%' AND state = 'active'`).Scan(&killed)
	}
	if killed == 0 {
		t.Skip("the export's query finished before it could be killed")
	}
	_, err = io.Copy(io.Discard, resp.Body)
	if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("a failed export ended cleanly (err %v): the client would keep a truncated file", err)
	}

	// Early: the query fails before anything is sent.
	if _, err := b.db.Pool.Exec(ctx, `ALTER TABLE ezpass_transactions RENAME TO ezpass_transactions_gone`); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/ezpass/transactions/export.csv", "/ezpass/transactions/export.xlsx"} {
		if r, _ := b.get(t, finance, path); r.StatusCode != http.StatusInternalServerError {
			t.Errorf("GET %s with a failing query = %d; want 500", path, r.StatusCode)
		}
	}
}
