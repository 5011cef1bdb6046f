package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"recondesk/internal/metrics"
	"recondesk/internal/store"
)

// AssociationRun is what RunAssociation needs.
type AssociationRun struct {
	Pool     *pgxpool.Pool
	TZ       *time.Location
	AutoPost bool
	// Client enqueues the posting job when AutoPost (nil: none).
	Client  *river.Client[pgx.Tx]
	Actor   string // audit actor
	Trigger string // what asked for the run, kept in the audit event
	Metrics *metrics.Metrics
}

// RunAssociation associates every candidate in one transaction, audits the
// run and, when AutoPost, enqueues posting in that same transaction.
func RunAssociation(ctx context.Context, a AssociationRun) (store.AssociationCounts, error) {
	var counts store.AssociationCounts
	err := store.InTx(ctx, a.Pool, func(tx pgx.Tx) error {
		if err := store.LockAssociation(ctx, tx); err != nil {
			return err
		}
		var err error
		if counts, err = store.Associate(ctx, tx, a.TZ); err != nil {
			return err
		}
		after := map[string]any{"counts": counts, "trigger": a.Trigger}
		if err := store.Audit(ctx, tx, a.Actor, "ezpass.associate", "ezpass", "association", nil, after, ""); err != nil {
			return err
		}
		if a.AutoPost && a.Client != nil && counts.Associated() > 0 {
			_, err = a.Client.InsertTx(ctx, tx, EZPassPostArgs{Trigger: "association"}, nil)
		}
		return err
	})
	if err == nil && a.Metrics != nil {
		a.Metrics.Events.WithLabelValues("ezpass.associate", "tag").Add(float64(counts.ByTag))
		a.Metrics.Events.WithLabelValues("ezpass.associate", "plate").Add(float64(counts.ByPlate))
		for code, n := range counts.Failed {
			a.Metrics.Events.WithLabelValues("ezpass.associate", code).Add(float64(n))
		}
	}
	return counts, err
}

// RunPosting posts every associated toll and audits the run.
func RunPosting(ctx context.Context, pool *pgxpool.Pool, actor, trigger string, m *metrics.Metrics) (store.PostingCounts, error) {
	counts, err := store.Post(ctx, pool, actor, 0)
	if err != nil {
		return counts, err
	}
	if counts.Candidates > 0 {
		after := map[string]any{"counts": counts, "trigger": trigger}
		if err := store.Audit(ctx, pool, actor, "ezpass.post", "ezpass", "posting", nil, after, ""); err != nil {
			return counts, err
		}
	}
	if m != nil {
		m.Events.WithLabelValues("ezpass.post", "posted").Add(float64(counts.Posted))
		for code, n := range counts.Failed {
			m.Events.WithLabelValues("ezpass.post", code).Add(float64(n))
		}
	}
	return counts, nil
}

// EZPassAssociateWorker runs association.
type EZPassAssociateWorker struct {
	river.WorkerDefaults[EZPassAssociateArgs]
	Pool     *pgxpool.Pool
	Logger   *slog.Logger
	Metrics  *metrics.Metrics
	TZ       *time.Location
	AutoPost bool
}

// Work associates all candidates; when AutoPost it enqueues posting in the same transaction.
func (w *EZPassAssociateWorker) Work(ctx context.Context, job *river.Job[EZPassAssociateArgs]) error {
	client, _ := river.ClientFromContextSafely[pgx.Tx](ctx)
	trigger := job.Args.Trigger
	if job.Args.ImportID != 0 {
		trigger = fmt.Sprintf("%s import %d", trigger, job.Args.ImportID)
	}
	c, err := RunAssociation(ctx, AssociationRun{Pool: w.Pool, TZ: w.TZ, AutoPost: w.AutoPost, Client: client,
		Actor: store.SystemActor(job.Args.Kind()), Trigger: trigger, Metrics: w.Metrics})
	if err != nil {
		return err
	}
	w.Logger.Info("ezpass association", "job_id", job.ID, "import_id", job.Args.ImportID, "candidates", c.Candidates,
		"by_tag", c.ByTag, "by_plate", c.ByPlate, "changed", c.Changed)
	return nil
}

// EZPassPostWorker runs posting.
type EZPassPostWorker struct {
	river.WorkerDefaults[EZPassPostArgs]
	Pool    *pgxpool.Pool
	Logger  *slog.Logger
	Metrics *metrics.Metrics
}

// Work posts every associated toll, chunk by chunk.
func (w *EZPassPostWorker) Work(ctx context.Context, job *river.Job[EZPassPostArgs]) error {
	c, err := RunPosting(ctx, w.Pool, store.SystemActor(job.Args.Kind()), job.Args.Trigger, w.Metrics)
	if err != nil {
		return err
	}
	w.Logger.Info("ezpass posting", "job_id", job.ID, "posted", c.Posted, "journals", c.JournalsInserted)
	return nil
}

// ezpassTZ is the zone of the times shown in failure messages (EZPASS_TZ).
func ezpassTZ(d Deps) *time.Location {
	if d.EZPass.TZ != nil {
		return d.EZPass.TZ
	}
	if loc, err := time.LoadLocation("America/New_York"); err == nil {
		return loc
	}
	return time.UTC
}

// addEZPassMatchWorkers registers the association and posting workers.
func addEZPassMatchWorkers(w *river.Workers, d Deps) {
	river.AddWorker(w, &EZPassAssociateWorker{Pool: d.Pool, Logger: d.Logger, Metrics: d.Metrics, TZ: ezpassTZ(d), AutoPost: d.EZPass.AutoPost})
	river.AddWorker(w, &EZPassPostWorker{Pool: d.Pool, Logger: d.Logger, Metrics: d.Metrics})
}

// ezpassMatchPeriodic is the nightly association run (EZPassDeps.AssociateEvery
// cannot be read here; it runs every 24 hours, one job per period).
func ezpassMatchPeriodic() []*river.PeriodicJob {
	const every = 24 * time.Hour
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(every), func() (river.JobArgs, *river.InsertOpts) {
			return EZPassAssociateArgs{Trigger: "nightly"}, &river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByPeriod: every}}
		}, &river.PeriodicJobOpts{ID: EZPassAssociateArgs{}.Kind()}),
	}
}
