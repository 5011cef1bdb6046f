package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
)

// CountCap is the size up to which list counts are exact: counting reads
// at most CountCap+1 index entries, about a millisecond.
const CountCap = 1000

// Count is the size of a list: exact up to CountCap rows, else the
// planner's estimate (at least CountCap+1), so counting never reads more
// than CountCap+1 rows.
type Count struct {
	N     int64
	Exact bool
}

// Rounded is N for an exact count, else N to two significant digits.
func (c Count) Rounded() int64 {
	if c.Exact || c.N < 100 {
		return c.N
	}
	p := math.Pow10(int(math.Log10(float64(c.N))) - 1)
	return int64(math.Round(float64(c.N)/p) * p)
}

// countCapped counts the rows of `SELECT 1 <from>` (from holds FROM and
// WHERE with args): exactly up to CountCap, else from the plan's estimate.
func countCapped(ctx context.Context, db DBTX, from string, args ...any) (Count, error) {
	return countCappedOrdered(ctx, db, from, "", args...)
}

// countCappedOrdered is countCapped reading the rows in orderBy (the
// list's ORDER BY): the count then takes the list's own index scan, which
// stops after CountCap+1 rows whatever the statistics say (a bitmap scan,
// which a plan on stale statistics may pick, reads every match first).
func countCappedOrdered(ctx context.Context, db DBTX, from, orderBy string, args ...any) (Count, error) {
	var n int64
	if err := db.QueryRow(ctx, `SELECT `+cappedCount(from+orderBy), args...).Scan(&n); err != nil {
		return Count{}, err
	}
	return countFrom(ctx, db, n, from, args...)
}

// cappedCount is the expression counting the rows of `SELECT 1 <from>` up
// to CountCap+1, to select along with other figures.
func cappedCount(from string) string {
	return fmt.Sprintf(`(SELECT count(*) FROM (SELECT 1 %s LIMIT %d) x)`, from, CountCap+1)
}

// countFrom is the Count of a capped count n of `SELECT 1 <from>`: n when
// exact, else the plan's estimate.
func countFrom(ctx context.Context, db DBTX, n int64, from string, args ...any) (Count, error) {
	if n <= CountCap {
		return Count{N: n, Exact: true}, nil
	}
	var plan []byte
	if err := db.QueryRow(ctx, `EXPLAIN (FORMAT JSON) SELECT 1 `+from, args...).Scan(&plan); err != nil {
		return Count{}, err
	}
	var p []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal(plan, &p); err != nil || len(p) == 0 {
		return Count{N: n}, err
	}
	return Count{N: max(n, int64(p[0].Plan.Rows))}, nil
}

// CountEZPassTxns counts the transactions matching f (its cursor and limit
// aside): exact up to CountCap, else an estimate.
func CountEZPassTxns(ctx context.Context, db DBTX, f EZPassTxnFilter) (Count, error) {
	f.Cursor, f.Limit = "", 0
	if err := f.Validate(); err != nil {
		return Count{}, err
	}
	where, args := f.where()
	orderBy, _ := f.order()
	return countCappedOrdered(ctx, db, `FROM ezpass_transactions t`+where, orderBy, args...)
}

// CountJournals counts the ledger's journals: exact up to CountCap, else an
// estimate.
func CountJournals(ctx context.Context, db DBTX) (Count, error) {
	return countCapped(ctx, db, journalsFrom)
}

const journalsFrom = `FROM ledger_journals`
