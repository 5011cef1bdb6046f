package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/apperror"
	"recondesk/internal/faulty"
)

// FaultyPeriod is one month of faulty bookings and when its period-level phases completed.
type FaultyPeriod struct {
	Period      string
	IngestedAt  *time.Time
	ValidatedAt *time.Time
	TrackedAt   *time.Time
	// ReportRows is how many rows the latest report held.
	ReportRows int
	CreatedAt  time.Time
}

// Facts returns the period's completion times for the timeline functions of package faulty.
func (p FaultyPeriod) Facts() faulty.PeriodFacts {
	per, _ := faulty.ParsePeriod(p.Period)
	f := faulty.PeriodFacts{Period: per, Completed: map[faulty.Phase]time.Time{}}
	for ph, t := range map[faulty.Phase]*time.Time{faulty.PhaseIngestion: p.IngestedAt, faulty.PhaseValidation: p.ValidatedAt, faulty.PhaseTracking: p.TrackedAt} {
		if t != nil {
			f.Completed[ph] = *t
		}
	}
	return f
}

const faultyPeriodCols = `period, ingested_at, validated_at, tracked_at, report_rows, created_at`

func scanFaultyPeriod(row pgx.Row) (FaultyPeriod, error) {
	var p FaultyPeriod
	err := row.Scan(&p.Period, &p.IngestedAt, &p.ValidatedAt, &p.TrackedAt, &p.ReportRows, &p.CreatedAt)
	return p, err
}

// EnsureFaultyPeriod creates the period's row if it does not exist yet.
func EnsureFaultyPeriod(ctx context.Context, db DBTX, period string) error {
	if _, err := faulty.ParsePeriod(period); err != nil {
		return apperror.New(apperror.Invalid, "%q is not a period: write it as YYYY-MM, like 2026-10.", period)
	}
	_, err := db.Exec(ctx, `INSERT INTO faulty_periods (period) VALUES ($1) ON CONFLICT (period) DO NOTHING`, period)
	return err
}

// FaultyPeriodByID finds a period; one never ingested is NotFound.
func FaultyPeriodByID(ctx context.Context, db DBTX, period string) (FaultyPeriod, error) {
	p, err := scanFaultyPeriod(db.QueryRow(ctx, `SELECT `+faultyPeriodCols+` FROM faulty_periods WHERE period = $1`, period))
	return p, notFound(err, "The period "+period)
}

// ListFaultyPeriods returns every known period, newest first.
func ListFaultyPeriods(ctx context.Context, db DBTX) ([]FaultyPeriod, error) {
	rows, err := db.Query(ctx, `SELECT `+faultyPeriodCols+` FROM faulty_periods ORDER BY period DESC`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (FaultyPeriod, error) { return scanFaultyPeriod(r) })
}

// MarkFaultyPhaseDone records the completion of a period-level phase. The first completion time
// is kept (the timeline is computed from it); it reports whether this was the first.
func MarkFaultyPhaseDone(ctx context.Context, db DBTX, period string, phase faulty.Phase) (bool, error) {
	return MarkFaultyPhaseDoneAt(ctx, db, period, phase, time.Time{})
}

// MarkFaultyPhaseDoneAt is MarkFaultyPhaseDone at the application's clock (at; zero means the
// database's now()), so a run with a simulated clock (the demo seed) completes its phases then.
func MarkFaultyPhaseDoneAt(ctx context.Context, db DBTX, period string, phase faulty.Phase, at time.Time) (bool, error) {
	col := map[faulty.Phase]string{faulty.PhaseIngestion: "ingested_at", faulty.PhaseValidation: "validated_at", faulty.PhaseTracking: "tracked_at"}[phase]
	if col == "" {
		return false, nil
	}
	tag, err := db.Exec(ctx, `UPDATE faulty_periods SET `+col+` = coalesce($2, now()) WHERE period = $1 AND `+col+` IS NULL`, period, nullTime(at))
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// Run statuses.
const (
	RunRunning   = string(faulty.RunRunning)
	RunSucceeded = string(faulty.RunSucceeded)
	RunFailed    = string(faulty.RunFailed)
)

// RunBodyCap is the most of a failing response body a run keeps.
const RunBodyCap = 64 << 10

// FaultyRun is one attempt at a phase of a period.
type FaultyRun struct {
	ID         int64
	Period     string
	Phase      string
	Status     string
	Actor      string
	StartedAt  time.Time
	FinishedAt *time.Time
	Message    string
	Counts     json.RawMessage
	// BodySize is the length of the kept failing body (0 when none).
	BodySize int
}

// StartFaultyRun records a phase attempt as running (creating the period if needed). Runs of the
// same phase left running for over an hour (the process died) are marked failed first.
func StartFaultyRun(ctx context.Context, db DBTX, period string, phase faulty.Phase, actor string) (int64, error) {
	if err := EnsureFaultyPeriod(ctx, db, period); err != nil {
		return 0, err
	}
	if _, err := db.Exec(ctx, `UPDATE faulty_runs SET status = 'failed', finished_at = now(),
			message = 'Interrupted: the process stopped before the run finished.'
		WHERE period = $1 AND phase = $2 AND status = 'running' AND started_at < now() - interval '1 hour'`, period, string(phase)); err != nil {
		return 0, err
	}
	var id int64
	err := db.QueryRow(ctx, `INSERT INTO faulty_runs (period, phase, status, actor) VALUES ($1, $2, 'running', $3) RETURNING id`,
		period, string(phase), actor).Scan(&id)
	return id, err
}

// FinishFaultyRun records a run's outcome with its counts; a failing body is kept up to RunBodyCap bytes.
func FinishFaultyRun(ctx context.Context, db DBTX, id int64, status, message string, counts any, body []byte) error {
	c, err := json.Marshal(counts)
	if err != nil {
		return err
	}
	if counts == nil {
		c = []byte("{}")
	}
	if len(body) > RunBodyCap {
		body = body[:RunBodyCap]
	}
	if len(body) == 0 {
		body = nil
	}
	_, err = db.Exec(ctx, `UPDATE faulty_runs SET status = $2, message = $3, counts = $4, failing_body = $5, finished_at = now()
		WHERE id = $1`, id, status, message, c, body)
	return err
}

// ListFaultyRuns returns a period's latest runs, newest first.
func ListFaultyRuns(ctx context.Context, db DBTX, period string, limit int) ([]FaultyRun, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	rows, err := db.Query(ctx, `SELECT id, period, phase, status, actor, started_at, finished_at, message, counts,
			coalesce(length(failing_body), 0)
		FROM faulty_runs WHERE period = $1 ORDER BY started_at DESC, id DESC LIMIT $2`, period, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (FaultyRun, error) {
		var x FaultyRun
		err := r.Scan(&x.ID, &x.Period, &x.Phase, &x.Status, &x.Actor, &x.StartedAt, &x.FinishedAt, &x.Message, &x.Counts, &x.BodySize)
		return x, err
	})
}

// FaultyRunBody returns the failing body a run kept (nil when none).
func FaultyRunBody(ctx context.Context, db DBTX, id int64) ([]byte, error) {
	var b []byte
	err := db.QueryRow(ctx, `SELECT failing_body FROM faulty_runs WHERE id = $1`, id).Scan(&b)
	return b, notFound(err, "The run")
}
