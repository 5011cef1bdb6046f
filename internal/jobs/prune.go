package jobs

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
)

// PruneWorker deletes sign-in failures older than a day and expired sessions.
type PruneWorker struct {
	river.WorkerDefaults[PruneArgs]
	Pool *pgxpool.Pool
}

// Work deletes the expired rows; running it twice changes nothing more.
func (w *PruneWorker) Work(ctx context.Context, job *river.Job[PruneArgs]) error {
	if _, err := w.Pool.Exec(ctx, `DELETE FROM login_failures WHERE at < $1`, time.Now().Add(-24*time.Hour)); err != nil {
		return err
	}
	_, err := w.Pool.Exec(ctx, `DELETE FROM sessions WHERE expiry < now()`)
	return err
}
