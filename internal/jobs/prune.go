package jobs

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
)

// PruneArgs asks for expired sign-in failures and sessions to be deleted.
type PruneArgs struct{}

// Kind is the stable job kind.
func (PruneArgs) Kind() string { return "maintenance.prune" }

// InsertOpts bounds retries: pruning is harmless to repeat.
func (PruneArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

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
