package store

import (
	"context"
	"time"
)

// RecordLoginFailure counts one failed sign-in under each key.
func RecordLoginFailure(ctx context.Context, db DBTX, keys ...string) error {
	_, err := db.Exec(ctx, `INSERT INTO login_failures (key) SELECT unnest($1::text[])`, keys)
	return err
}

// CountLoginFailures counts failures under key since a time.
func CountLoginFailures(ctx context.Context, db DBTX, key string, since time.Time) (int, error) {
	var n int
	err := db.QueryRow(ctx, `SELECT count(*) FROM login_failures WHERE key = $1 AND at >= $2`, key, since).Scan(&n)
	return n, err
}

// ClearLoginFailures forgets the failures under key and prunes old rows.
func ClearLoginFailures(ctx context.Context, db DBTX, key string, before time.Time) error {
	_, err := db.Exec(ctx, `DELETE FROM login_failures WHERE key = $1 OR at < $2`, key, before)
	return err
}

// LockLoginKeys takes a transaction-scoped advisory lock per key, in the
// order given, so that concurrent sign-ins for one account (or address)
// count and record their attempt one after the other.
func LockLoginKeys(ctx context.Context, db DBTX, keys ...string) error {
	for _, k := range keys {
		if _, err := db.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('login:' || $1, 0))`, k); err != nil {
			return err
		}
	}
	return nil
}

// RecordLoginAttempt counts one attempt under each key before its password
// is checked, and returns the rows' ids: a successful sign-in forgets them
// (ForgetLoginAttempt), a failed one leaves them as its failures.
func RecordLoginAttempt(ctx context.Context, db DBTX, keys ...string) ([]int64, error) {
	rows, err := db.Query(ctx, `INSERT INTO login_failures (key) SELECT unnest($1::text[]) RETURNING id`, keys)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// ForgetLoginAttempt deletes attempt rows recorded by RecordLoginAttempt.
func ForgetLoginAttempt(ctx context.Context, db DBTX, ids []int64) error {
	_, err := db.Exec(ctx, `DELETE FROM login_failures WHERE id = ANY($1)`, ids)
	return err
}

// PruneExpired deletes sign-in attempts recorded before failuresBefore and
// sessions past their expiry; running it twice deletes nothing more.
func PruneExpired(ctx context.Context, db DBTX, failuresBefore time.Time) error {
	if _, err := db.Exec(ctx, `DELETE FROM login_failures WHERE at < $1`, failuresBefore); err != nil {
		return err
	}
	_, err := db.Exec(ctx, `DELETE FROM sessions WHERE expiry < now()`)
	return err
}
