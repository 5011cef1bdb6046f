package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// PhaseJob is a faulty.phase job that waits or runs.
type PhaseJob struct {
	ID    int64
	Phase string
	// State is River's: available, scheduled, retryable, running or pending.
	State     string
	Attempt   int
	CreatedAt time.Time
}

// ActivePhaseJobs returns the faulty.phase jobs of a period that wait or run, oldest first:
// what the period page shows as progress (and why its buttons are disabled).
func ActivePhaseJobs(ctx context.Context, db DBTX, period string) ([]PhaseJob, error) {
	rows, err := db.Query(ctx, `SELECT id, coalesce(args->>'phase', ''), state::text, attempt, created_at FROM river_job
		WHERE kind = 'faulty.phase' AND args->>'period' = $1
			AND state IN ('available', 'scheduled', 'retryable', 'running', 'pending')
		ORDER BY id`, period)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (PhaseJob, error) {
		var j PhaseJob
		err := r.Scan(&j.ID, &j.Phase, &j.State, &j.Attempt, &j.CreatedAt)
		return j, err
	})
}
