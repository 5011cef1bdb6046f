package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/pgtest"
)

// TestDriverSearchesReadAnIndex plans the driver conditions of the
// transactions filter and the /ledger search: with sequential scans
// discouraged they read the trigram indexes (without them, ILIKE '%x%'
// has no index and every driver is tested).
func TestDriverSearchesReadAnIndex(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	for _, c := range []struct{ where, index string }{
		{`tlc_license = $1 OR name ILIKE '%' || $1 || '%'`, "drivers_name_trgm_idx"},
		{`name ILIKE '%' || $1 || '%' OR tlc_license ILIKE '%' || $1 || '%'`, "drivers_tlc_license_trgm_idx"},
	} {
		var plan strings.Builder
		err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, `EXPLAIN SELECT id FROM drivers WHERE `+c.where, "Ramos")
			if err != nil {
				return err
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			plan.WriteString(strings.Join(lines, "\n"))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan.String(), c.index) || strings.Contains(plan.String(), "Seq Scan") {
			t.Errorf("%s: plan does not read %s:\n%s", c.where, c.index, plan.String())
		}
	}
}
