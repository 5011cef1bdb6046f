package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"recondesk/internal/app"
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

// RunAssociation runs the association use case (app.App.Associate) with
// the dependencies of a; it stays for callers written before the
// application layer.
func RunAssociation(ctx context.Context, a AssociationRun) (store.AssociationCounts, error) {
	application := app.New(app.Deps{Pool: a.Pool, Metrics: a.Metrics,
		EZPass: app.EZPassDeps{Match: app.EZPassMatchDeps{AutoPost: a.AutoPost && a.Client != nil, TZ: a.TZ}}})
	application.UseJobs(a.Client)
	return application.Associate(ctx, auditActor(a.Actor), a.Trigger)
}

// RunPosting runs the posting use case (app.App.Post); it stays for
// callers written before the application layer.
func RunPosting(ctx context.Context, pool *pgxpool.Pool, actor, trigger string, m *metrics.Metrics) (store.PostingCounts, error) {
	return app.New(app.Deps{Pool: pool, Metrics: m}).Post(ctx, auditActor(actor), trigger)
}

// auditActor turns an audit actor string ("user:1", "system:kind") back into an app.Actor.
func auditActor(s string) app.Actor {
	var id int64
	if _, err := fmt.Sscanf(s, "user:%d", &id); err == nil && id > 0 {
		return app.User(id)
	}
	if len(s) > len("system:") && s[:len("system:")] == "system:" {
		return app.System(s[len("system:"):])
	}
	return app.System(s)
}

// EZPassAssociateWorker runs association (app.App.Associate).
type EZPassAssociateWorker struct {
	river.WorkerDefaults[EZPassAssociateArgs]
	App    *app.App
	Logger *slog.Logger

	// Without App, one is built from these (workers made before the application layer).
	Pool     *pgxpool.Pool
	Metrics  *metrics.Metrics
	TZ       *time.Location
	AutoPost bool
}

func (w *EZPassAssociateWorker) app() *app.App {
	if w.App == nil {
		w.App = app.New(app.Deps{Pool: w.Pool, Logger: w.Logger, Metrics: w.Metrics,
			EZPass: app.EZPassDeps{Match: app.EZPassMatchDeps{AutoPost: w.AutoPost, TZ: w.TZ}}})
	}
	return w.App
}

// Work associates all candidates and records the counts as the job's output.
func (w *EZPassAssociateWorker) Work(ctx context.Context, job *river.Job[EZPassAssociateArgs]) error {
	trigger := job.Args.Trigger
	if job.Args.ImportID != 0 {
		trigger = fmt.Sprintf("%s import %d", trigger, job.Args.ImportID)
	}
	a := w.app()
	c, err := a.Associate(ctx, app.ActorOf(job.Args.RequestedBy, job.Kind), trigger)
	if err != nil {
		return err
	}
	a.Logger.Info("ezpass association", "job_id", job.ID, "import_id", job.Args.ImportID, "candidates", c.Candidates,
		"by_tag", c.ByTag, "by_plate", c.ByPlate, "changed", c.Changed)
	return river.RecordOutput(ctx, c)
}

// Timeout lets association run past River's default minute: it grows with
// the tolls (about 90 s at a million).
func (w *EZPassAssociateWorker) Timeout(*river.Job[EZPassAssociateArgs]) time.Duration {
	return 30 * time.Minute
}

// EZPassPostWorker runs posting (app.App.Post).
type EZPassPostWorker struct {
	river.WorkerDefaults[EZPassPostArgs]
	App    *app.App
	Logger *slog.Logger

	// Without App, one is built from these (workers made before the application layer).
	Pool    *pgxpool.Pool
	Metrics *metrics.Metrics
}

func (w *EZPassPostWorker) app() *app.App {
	if w.App == nil {
		w.App = app.New(app.Deps{Pool: w.Pool, Logger: w.Logger, Metrics: w.Metrics})
	}
	return w.App
}

// Timeout lets posting run past River's default minute; chunks commit one
// by one, so a retry after a timeout continues where the run stopped.
func (w *EZPassPostWorker) Timeout(*river.Job[EZPassPostArgs]) time.Duration { return time.Hour }

// Work posts every associated toll chunk by chunk (each chunk's audit
// event is the run's progress) and records the counts as the job's output.
func (w *EZPassPostWorker) Work(ctx context.Context, job *river.Job[EZPassPostArgs]) error {
	a := w.app()
	c, err := a.Post(ctx, app.ActorOf(job.Args.RequestedBy, job.Kind), job.Args.Trigger)
	if err != nil {
		return err
	}
	a.Logger.Info("ezpass posting", "job_id", job.ID, "posted", c.Posted, "journals", c.JournalsInserted, "chunks", c.Chunks)
	return river.RecordOutput(ctx, c)
}

// ezpassMatchAppDeps are the application layer's association and posting
// dependencies taken from the workers' (EZPASS_TZ, EZPASS_AUTO_POST).
func ezpassMatchAppDeps(d Deps) app.EZPassMatchDeps {
	return app.EZPassMatchDeps{AutoPost: d.EZPass.AutoPost, TZ: d.EZPass.TZ}
}

// addEZPassMatchWorkers registers the association and posting workers.
func addEZPassMatchWorkers(w *river.Workers, d Deps) {
	river.AddWorker(w, &EZPassAssociateWorker{App: d.App, Logger: d.Logger})
	river.AddWorker(w, &EZPassPostWorker{App: d.App, Logger: d.Logger})
}

// ezpassMatchPeriodic is the nightly association run (one job per period).
func ezpassMatchPeriodic() []*river.PeriodicJob {
	const every = 24 * time.Hour
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(every), func() (river.JobArgs, *river.InsertOpts) {
			return EZPassAssociateArgs{Trigger: "nightly"}, &river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByPeriod: every}}
		}, &river.PeriodicJobOpts{ID: EZPassAssociateArgs{}.Kind()}),
	}
}
