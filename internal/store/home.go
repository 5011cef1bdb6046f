package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// EZPassSummary is the E-ZPass panel of the home page.
type EZPassSummary struct {
	TollsThisMonth   int // tolls imported since the first of the month
	MatchedThisMonth int // of the tolls and credits imported this month, those associated or posted
	MatchCandidates  int // tolls and credits imported this month (conflicts aside)
	FailuresWaiting  int // rows in the failures queue
	Weeks            []WeekAmount
}

// MatchedPercent is the share of this month's tolls and credits matched to a driver.
func (s EZPassSummary) MatchedPercent() float64 {
	if s.MatchCandidates == 0 {
		return 0
	}
	return 100 * float64(s.MatchedThisMonth) / float64(s.MatchCandidates)
}

// WeekAmount is what was posted to drivers in one week.
type WeekAmount struct {
	Week  time.Time // Monday 00:00 in the zone
	Cents int64
}

// EZPassHomeSummary computes the home panel: this month's imports in tz,
// the failures queue, and the net amount posted to drivers in each of the
// last 8 weeks (Monday to Sunday in tz, the current week last).
//
// It reads the hourly rollups (ezpass_txn_hourly, ledger_hourly,
// kept by triggers in the writing statements), so its cost follows the
// number of hours in the ranges, not the number of tolls. Boundaries are
// exact in zones whose offset from UTC is a whole number of hours.
func EZPassHomeSummary(ctx context.Context, db DBTX, now time.Time, tz *time.Location) (EZPassSummary, error) {
	var s EZPassSummary
	local := now.In(tz)
	month := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, tz)
	err := db.QueryRow(ctx, `SELECT
			coalesce(sum(n) FILTER (WHERE kind = 'toll' AND hour >= $1), 0),
			coalesce(sum(n) FILTER (WHERE kind IN ('toll', 'credit') AND hour >= $1 AND status IN ('associated', 'posted')), 0),
			coalesce(sum(n) FILTER (WHERE kind IN ('toll', 'credit') AND hour >= $1 AND status <> 'conflict'), 0),
			(SELECT coalesce(sum(n), 0) FROM ezpass_txn_hourly WHERE status IN ('association_failed', 'posting_failed'))
		FROM ezpass_txn_hourly WHERE hour >= $1`, month).
		Scan(&s.TollsThisMonth, &s.MatchedThisMonth, &s.MatchCandidates, &s.FailuresWaiting)
	if err != nil {
		return s, err
	}
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, tz)
	monday := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	for i := 7; i >= 0; i-- {
		s.Weeks = append(s.Weeks, WeekAmount{Week: monday.AddDate(0, 0, -7*i)})
	}
	bounds := make([]time.Time, 0, 9)
	for _, w := range s.Weeks {
		bounds = append(bounds, w.Week)
	}
	bounds = append(bounds, monday.AddDate(0, 0, 7))
	rows, err := db.Query(ctx, `
		SELECT width_bucket(hour, $1::timestamptz[]) AS b, sum(cents)
		FROM ledger_hourly
		WHERE source_type = 'EZPASS' AND account_group = 'driver' AND hour >= $2 AND hour < $3
		GROUP BY 1`, bounds, bounds[0], bounds[len(bounds)-1])
	if err != nil {
		return s, err
	}
	defer rows.Close()
	for rows.Next() {
		var b int
		var cents int64
		if err := rows.Scan(&b, &cents); err != nil {
			return s, err
		}
		if b >= 1 && b <= len(s.Weeks) {
			s.Weeks[b-1].Cents = cents
		}
	}
	return s, rows.Err()
}

// RollupDrift compares the hourly rollups with the rows they summarise and
// returns the number of (hour, group) cells that differ: 0 when the
// triggers kept them right. It reads every row: for tests and checks, not
// for pages.
func RollupDrift(ctx context.Context, db DBTX) (int, error) {
	var n int
	err := db.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM (
			SELECT date_bin('1 hour', created_at, 'epoch') AS hour, kind, status, failure_code, count(*) AS n
			FROM ezpass_transactions GROUP BY 1, 2, 3, 4) live
		FULL JOIN (SELECT * FROM ezpass_txn_hourly WHERE n <> 0) h USING (hour, kind, status, failure_code)
		WHERE live.n IS DISTINCT FROM h.n)
		+
		(SELECT count(*) FROM (
			SELECT date_bin('1 hour', j.posted_at, 'epoch') AS hour, j.source_type, ledger_account_group(e.account) AS account_group,
				sum(e.amount_cents) AS cents
			FROM ledger_entries e JOIN ledger_journals j ON j.id = e.journal_id GROUP BY 1, 2, 3) live
		FULL JOIN (SELECT * FROM ledger_hourly WHERE cents <> 0) h USING (hour, source_type, account_group)
		WHERE coalesce(live.cents, 0) <> coalesce(h.cents, 0))`).Scan(&n)
	return n, err
}

// JobCount is the number of River jobs in one state.
type JobCount struct {
	State string
	Count int64
}

// JobCounts counts River's jobs by state (River prunes finished jobs, so
// the table stays small).
func JobCounts(ctx context.Context, db DBTX) ([]JobCount, error) {
	rows, err := db.Query(ctx, `SELECT state::text, count(*) FROM river_job GROUP BY state ORDER BY state`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (JobCount, error) {
		var j JobCount
		return j, r.Scan(&j.State, &j.Count)
	})
}

// LatestFaultyPeriod is the latest period with batches at or before upTo
