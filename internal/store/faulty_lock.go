package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// LockFaultyPeriod takes the period's transaction lock: every phase of a period reads and
// writes its rows under it, so phases of one period never interleave.
func LockFaultyPeriod(ctx context.Context, tx pgx.Tx, period string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(4004, hashtext($1))`, period)
	return err
}

// ThreadUpTo returns the Message-IDs and planned times of a batch's emails up to seq, in order.
func ThreadUpTo(ctx context.Context, db DBTX, batchID string, seq int) (ids []string, times []time.Time, err error) {
	rows, err := db.Query(ctx, `SELECT message_id, planned_at FROM faulty_emails WHERE batch_id = $1 AND seq <= $2 ORDER BY seq`, batchID, seq)
	if err != nil {
		return nil, nil, err
	}
	var id string
	var at time.Time
	_, err = pgx.ForEachRow(rows, []any{&id, &at}, func() error {
		ids, times = append(ids, id), append(times, at)
		return nil
	})
	return ids, times, err
}

// BatchPartyPeriod returns the Party ID and period of a batch (what an attachment is named by).
func BatchPartyPeriod(ctx context.Context, db DBTX, batchID string) (partyID, period string, err error) {
	err = db.QueryRow(ctx, `SELECT p.party_id, b.period FROM faulty_batches b JOIN partners p ON p.id = b.partner_id WHERE b.id = $1`,
		batchID).Scan(&partyID, &period)
	return partyID, period, err
}

// LatestBatchPeriod is the latest period up to upTo (YYYY-MM) that has batches; "" when none.
func LatestBatchPeriod(ctx context.Context, db DBTX, upTo string) (string, error) {
	var period string
	err := db.QueryRow(ctx, `SELECT coalesce(max(period), '') FROM faulty_batches WHERE period <= $1`, upTo).Scan(&period)
	return period, err
}

// demoSeedLockKey is the session advisory lock a demo seed holds while it drives the ladder.
const demoSeedLockKey = 0x1b0c_0800

// LockDemoSeed waits for the demo seed's session advisory lock on conn, so two seeds on one
// database (two `make run`s) take their check-then-act staff steps one after the other.
// Release it with UnlockDemoSeed.
func LockDemoSeed(ctx context.Context, conn *pgxpool.Conn) error {
	_, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, demoSeedLockKey)
	return err
}

// UnlockDemoSeed releases the lock taken by LockDemoSeed.
func UnlockDemoSeed(ctx context.Context, conn *pgxpool.Conn) error {
	_, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, demoSeedLockKey)
	return err
}
