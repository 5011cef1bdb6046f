package jobs

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"recondesk/internal/store"
)

// PruneWorker deletes sign-in failures older than a day and expired sessions.
type PruneWorker struct {
	river.WorkerDefaults[PruneArgs]
	Pool *pgxpool.Pool
}

// Work deletes the expired rows; running it twice changes nothing more.
func (w *PruneWorker) Work(ctx context.Context, job *river.Job[PruneArgs]) error {
	return store.PruneExpired(ctx, w.Pool, time.Now().Add(-24*time.Hour))
}
