package jobs

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"go.mongodb.org/mongo-driver/mongo"

	"recondesk/internal/app"
	"recondesk/internal/chargecloud"
	"recondesk/internal/faulty"
	"recondesk/internal/metrics"
	"recondesk/internal/store"
)

// The phases a FaultyPhaseArgs job runs (faulty_runs.phase).
const (
	PhaseIngestion    = string(faulty.PhaseIngestion)
	PhaseValidation   = string(faulty.PhaseValidation)
	PhaseTracking     = string(faulty.PhaseTracking)
	PhaseRevalidation = string(faulty.PhaseRevalidation)
)

// PipelinePhases lists the phases staff can run now, in order.
var PipelinePhases = []string{PhaseIngestion, PhaseValidation, PhaseTracking, PhaseRevalidation}

// Triggers of a FaultyPhaseArgs job.
const (
	TriggerSchedule = app.TriggerSchedule
	TriggerManual   = app.TriggerManual
	TriggerChain    = app.TriggerChain
)

// The pipeline's results live with the use cases in internal/app.
type (
	IngestCounts     = app.IngestCounts
	RowIssue         = app.RowIssue
	ValidationCounts = app.ValidationCounts
	TrackCounts      = app.TrackCounts
	PhaseResult      = app.PhaseResult
	PhaseError       = app.PhaseError
	Enqueuer         = app.Enqueuer
)

// PhaseInsertOpts are the insert options for a phase job by trigger (app.PhaseInsertOpts).
func PhaseInsertOpts(trigger string) *river.InsertOpts { return app.PhaseInsertOpts(trigger) }

// FaultyPipelineDeps are what ingestion, validation and tracking need.
type FaultyPipelineDeps struct {
	// Bookings is MongoDB's chargerbookings collection; nil makes validation fail with a clear reason.
	Bookings *mongo.Collection
	// ChargeCloud fetches the reports; nil makes ingestion fail with a clear reason.
	ChargeCloud *chargecloud.Client
	// Policy holds the phase windows and the EMSP time zone (Policy.Location).
	Policy faulty.Policy
	// Chunk is how many ids one MongoDB $in query carries (MONGODB_CHUNK); <= 0 means 1000.
	Chunk int
	// TempDir is where large worksheet parts are unzipped ("" means the system default).
	TempDir string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// appDeps is the part of app.FaultyDeps the pipeline fills.
func (d FaultyPipelineDeps) appDeps(into app.FaultyDeps) app.FaultyDeps {
	into.Bookings, into.ChargeCloud, into.Chunk, into.TempDir = d.Bookings, d.ChargeCloud, d.Chunk, d.TempDir
	if d.Policy.Notification.First != 0 {
		into.Policy = d.Policy
	}
	return into
}

// FaultyPipeline runs the period-level phases through app.App.RunPhase; kept for the
// benchmark and tests that build one directly.
type FaultyPipeline struct {
	Pool    *pgxpool.Pool
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	FaultyPipelineDeps
}

// NewFaultyPipeline returns the pipeline for the workers' dependencies.
func NewFaultyPipeline(d Deps) *FaultyPipeline {
	return &FaultyPipeline{Pool: d.Pool, Logger: d.Logger, Metrics: d.Metrics, FaultyPipelineDeps: d.Faulty.Pipeline}
}

// App is the application layer over the pipeline's dependencies.
func (p *FaultyPipeline) App() *app.App {
	return app.New(app.Deps{Pool: p.Pool, Logger: p.Logger, Metrics: p.Metrics, Now: p.Now,
		Faulty: p.FaultyPipelineDeps.appDeps(app.FaultyDeps{})})
}

// Run runs one phase of a period now (app.RunPhase); when next is a River client the
// following phase is queued when due.
func (p *FaultyPipeline) Run(ctx context.Context, period faulty.Period, phase, actor string, next Enqueuer) (PhaseResult, error) {
	a := p.App()
	if c, ok := next.(*river.Client[pgx.Tx]); ok && c != nil {
		a.UseJobs(c)
	}
	return a.RunPhase(ctx, app.PhaseRun{Period: period, Phase: faulty.Phase(phase), Actor: actorOf(actor), Chain: next != nil})
}

// RunAll runs ingestion, validation and tracking of a period in order (app.RunAllPhases).
func (p *FaultyPipeline) RunAll(ctx context.Context, period faulty.Period, actor string) ([]PhaseResult, error) {
	return p.App().RunAllPhases(ctx, period, actorOf(actor))
}

// actorOf turns an audit actor string ("user:1", "system:faulty.tick") back into an app.Actor.
func actorOf(s string) app.Actor {
	if rest, ok := strings.CutPrefix(s, "user:"); ok {
		if id, err := strconv.ParseInt(rest, 10, 64); err == nil {
			return app.User(id)
		}
	}
	return app.System(strings.TrimPrefix(s, "system:"))
}

// WriteMasterFiles writes the next master file version of each batch in tx (app.WriteMasterFiles).
func WriteMasterFiles(ctx context.Context, tx pgx.Tx, batchIDs []string, reason string, loc *time.Location, now time.Time) ([]store.MasterFile, error) {
	return app.WriteMasterFiles(ctx, tx, batchIDs, reason, loc, now)
}

// SchedulePhases queues the due phases and re-validations (app.Schedule).
func SchedulePhases(ctx context.Context, pool *pgxpool.Pool, client Enqueuer, d FaultyPipelineDeps, now time.Time) (int, error) {
	a := app.New(app.Deps{Pool: pool, Now: d.Now, Faulty: d.appDeps(app.FaultyDeps{})})
	return a.Schedule(ctx, client, now)
}

// FaultyPhaseWorker runs one phase of a period.
type FaultyPhaseWorker struct {
	river.WorkerDefaults[FaultyPhaseArgs]
	App *app.App
	// Pipeline stands in for App when App is nil (older callers).
	Pipeline *FaultyPipeline
}

func (w *FaultyPhaseWorker) app() *app.App {
	if w.App != nil {
		return w.App
	}
	return w.Pipeline.App()
}

// Timeout allows a month of 100k rows and a slow MongoDB.
func (w *FaultyPhaseWorker) Timeout(*river.Job[FaultyPhaseArgs]) time.Duration { return time.Hour }

// Work runs the phase; a permanent failure (rejected token, unreadable layout, missing
// predecessor) cancels the job instead of retrying it.
func (w *FaultyPhaseWorker) Work(ctx context.Context, job *river.Job[FaultyPhaseArgs]) error {
	period, err := faulty.ParsePeriod(job.Args.Period)
	if err != nil {
		return river.JobCancel(err)
	}
	_, err = w.app().RunPhase(ctx, app.PhaseRun{Period: period, Phase: faulty.Phase(job.Args.Phase),
		Actor: app.System(job.Args.Kind()), Chain: true})
	var pe *PhaseError
	if errors.As(err, &pe) && pe.Permanent {
		return river.JobCancel(err)
	}
	return err
}

// FaultyScheduleWorker queues what is due.
type FaultyScheduleWorker struct {
	river.WorkerDefaults[FaultyScheduleArgs]
	App *app.App
	// Pipeline stands in for App when App is nil (older callers).
	Pipeline *FaultyPipeline
}

// Work queues the due phases of the current and previous month and the re-validations.
func (w *FaultyScheduleWorker) Work(ctx context.Context, job *river.Job[FaultyScheduleArgs]) error {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	a := w.App
	if a == nil {
		a = w.Pipeline.App()
	}
	_, err = a.Schedule(ctx, client, a.Now())
	return err
}

// addFaultyPipelineWorkers registers the phase and schedule workers.
func addFaultyPipelineWorkers(w *river.Workers, d Deps) {
	river.AddWorker(w, &FaultyPhaseWorker{App: d.App})
	river.AddWorker(w, &FaultyScheduleWorker{App: d.App})
}

// faultyPipelinePeriodic runs the scheduler hourly (and on start); the phase jobs it queues
// are unique per day, so each phase is tried at most once a day until it completes.
func faultyPipelinePeriodic() []*river.PeriodicJob {
	const every = time.Hour
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(every), func() (river.JobArgs, *river.InsertOpts) {
			return FaultyScheduleArgs{}, &river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByPeriod: every}}
		}, &river.PeriodicJobOpts{ID: FaultyScheduleArgs{}.Kind(), RunOnStart: true}),
	}
}
