package app

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/store"
)

// CheckDriverBalances compares every driver's driver_balances row with the
// sum of their entries. Each mismatch is logged (driver id and amounts, no
// personal data) and audited as ledger.balance_mismatch by actor, in one
// transaction with the check; the mismatches are returned. The table is not
// repaired here: a mismatch means a writer bypassed the trigger, which a
// person must look at.
func (a *App) CheckDriverBalances(ctx context.Context, actor Actor) ([]store.BalanceMismatch, error) {
	var found []store.BalanceMismatch
	err := a.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		found, err = store.CheckDriverBalances(ctx, tx)
		if err != nil {
			return err
		}
		for _, m := range found {
			a.Logger.ErrorContext(ctx, "driver balance differs from its entries", "driver_id", m.DriverID,
				"table_cents", m.TableCents, "entries_cents", m.EntriesCents, "table_entries", m.TableEntries, "entry_count", m.EntryCount)
			if err := store.Audit(ctx, tx, actor.String(), "ledger.balance_mismatch", "driver", strconv.FormatInt(m.DriverID, 10),
				map[string]int64{"balance_cents": m.TableCents, "entries": m.TableEntries},
				map[string]int64{"balance_cents": m.EntriesCents, "entries": m.EntryCount},
				"driver_balances differs from the sum of the driver's entries"); err != nil {
				return err
			}
		}
		return nil
	})
	return found, err
}
