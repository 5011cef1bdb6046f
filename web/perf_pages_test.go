package web

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"recondesk/internal/auth"
)

// TestTransactionsPageShowsTheFilteredCount shows how many transactions
// match the filters, exactly for a small set.
func TestTransactionsPageShowsTheFilteredCount(t *testing.T) {
	t.Parallel()
	b := setup(t)
	txnFixture(t, b)
	c := b.login(t, auth.Viewer)
	for q, want := range map[string]string{
		"":                "12 transactions",
		"agency=panynj":   "3 transactions",
		"status=excluded": "1 transaction<",
		"import=99999":    "0 transactions",
	} {
		_, body := b.get(t, c, "/ezpass/transactions?"+q)
		mustContain(t, body, `data-testid="txn-count">`+want)
	}
}

// TestDriverStatementPagesNewestFirst posts 150 charges to one driver: the
// statement shows the newest 100 with the balance and a link to the older
// 50, whose page opens at zero and links back.
func TestDriverStatementPagesNewestFirst(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	var driver int64
	if err := b.db.Pool.QueryRow(ctx, `INSERT INTO drivers (name, tlc_license) VALUES ('Pat Pager', '5999999') RETURNING id`).Scan(&driver); err != nil {
		t.Fatal(err)
	}
	// 150 journals of 1.00 … 1.50, each debiting the driver and crediting clearing.
	if _, err := b.db.Pool.Exec(ctx, `
		WITH j AS (
			INSERT INTO ledger_journals (source_type, source_id, kind, txn_at, description, created_by)
			SELECT 'TEST', g::text, 'charge', now() - (200 - g) * interval '1 hour', 'charge ' || g, 'test' FROM generate_series(1, 150) g
			RETURNING id, source_id::int AS g
		)
		INSERT INTO ledger_entries (journal_id, account, amount_cents, driver_id)
		SELECT j.id, x.account, x.amount, x.driver FROM j
		CROSS JOIN LATERAL (VALUES ('driver:' || $1::bigint, 100 + j.g, $1::bigint), ('clearing:test', -(100 + j.g), NULL)) x (account, amount, driver)
		ORDER BY j.id, x.amount DESC`, driver); err != nil {
		t.Fatal(err)
	}
	c := b.login(t, auth.Viewer)
	_, body := b.get(t, c, fmt.Sprintf("/ledger/drivers/%d", driver))
	total := 150*100 + 150*151/2 // 26,325 cents
	mustContain(t, body, fmt.Sprintf(`data-testid="statement-balance">$%d.%02d`, total/100, total%100), `data-testid="statement-older"`)
	if strings.Contains(body, `data-testid="statement-newer"`) {
		t.Fatal("the newest page links to newer lines")
	}
	if n := strings.Count(body, "/ledger/journals/"); n != 100 {
		t.Fatalf("first page has %d lines, want 100", n)
	}
	older := regexp.MustCompile(`href="(/ledger/drivers/\d+\?before=\d+)"`).FindStringSubmatch(body)
	if older == nil {
		t.Fatal("no link to the older page")
	}
	_, body = b.get(t, c, strings.ReplaceAll(older[1], "&amp;", "&"))
	if n := strings.Count(body, "/ledger/journals/"); n != 50 {
		t.Fatalf("older page has %d lines, want 50", n)
	}
	// The older page's newest line shows the balance after it: 50×100 + 50×51/2 cents.
	mustContain(t, body, "$62.75", `data-testid="statement-newer"`, `data-testid="statement-opening">Opening balance of this page $0.00`)
	if strings.Contains(body, `data-testid="statement-older"`) {
		t.Fatal("the oldest page links to older lines")
	}
}
