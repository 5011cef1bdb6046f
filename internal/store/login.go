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
