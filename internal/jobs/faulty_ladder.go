package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"recondesk/internal/app"
	"recondesk/internal/apperror"
	"recondesk/internal/config"
	"recondesk/internal/faulty"
	"recondesk/internal/metrics"
	"recondesk/internal/store"
)

// TickEvery is the interval of the periodic faulty.tick job.
const TickEvery = app.TickEvery

// The ladder's types live with the use cases in internal/app.
type (
	Mailer         = app.Mailer
	MasterFileFunc = app.MasterFileFunc
	TickStep       = app.TickStep
	TickBatch      = app.TickBatch
	TickResult     = app.TickResult
	SendResult     = app.SendResult
)

// RegenerateMasterFile writes the batch's next master file version in tx (app.RegenerateMasterFile).
func RegenerateMasterFile(loc *time.Location, now time.Time) MasterFileFunc {
	return app.RegenerateMasterFile(loc, now)
}

// KeepMasterFile attaches the batch's latest master file version unchanged.
func KeepMasterFile(ctx context.Context, tx pgx.Tx, batchID, reason string) (int64, int, error) {
	return app.KeepMasterFile(ctx, tx, batchID, reason)
}

// FaultyLadderDeps are what the tick and the sender need.
type FaultyLadderDeps struct {
	// Sender delivers the emails; nil leaves them pending (a temporary failure).
	Sender Mailer
	// Policy sets the ladder's days and send hour.
	Policy faulty.Policy
	// MailFrom is the From address; MailDomain the domain of Message-IDs.
	MailFrom, MailDomain string
	// MaxAttempts bounds send attempts on temporary failures (default DefaultSendAttempts).
	MaxAttempts int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MasterFile writes the master file version each email carries; nil
	// regenerates it (RegenerateMasterFile). KeepMasterFile attaches the
	// latest version as it is instead.
	MasterFile MasterFileFunc
	// RetryDelay overrides River's backoff between send attempts (tests).
	RetryDelay time.Duration
}

// appDeps is the part of app.FaultyDeps the ladder fills.
func (d FaultyLadderDeps) appDeps(into app.FaultyDeps) app.FaultyDeps {
	into.Sender, into.MailFrom, into.MailDomain, into.MaxAttempts = d.Sender, d.MailFrom, d.MailDomain, d.MaxAttempts
	into.MasterFile, into.RetryDelay = d.MasterFile, d.RetryDelay
	if d.Policy.Notification.First != 0 {
		into.Policy = d.Policy
	}
	return into
}

// app is the application layer over the ladder's dependencies.
func (d FaultyLadderDeps) app(pool *pgxpool.Pool, client *river.Client[pgx.Tx], m *metrics.Metrics, log *slog.Logger) *app.App {
	a := app.New(app.Deps{Pool: pool, Logger: log, Metrics: m, Now: d.Now, Faulty: d.appDeps(app.FaultyDeps{})})
	if client != nil {
		a.UseJobs(client)
	}
	return a
}

// FaultyLadderFromConfig returns the ladder's dependencies for a process: the policy in
// EMSP_TZ at SEND_HOUR and an SMTP sender for SMTP_URL (none when it is empty).
func FaultyLadderFromConfig(cfg config.Config) (FaultyLadderDeps, error) {
	fd, err := app.FaultyDepsFromConfig(cfg)
	d := FaultyLadderDeps{Policy: fd.Policy, MailFrom: fd.MailFrom, MailDomain: fd.MailDomain}
	if fd.Sender != nil {
		d.Sender = fd.Sender
	}
	return d, err
}

// LadderPolicy is the default policy in EMSP_TZ with SEND_HOUR (app.FaultyPolicy).
func LadderPolicy(cfg config.Config) faulty.Policy { return app.FaultyPolicy(cfg) }

// TickRun is what RunFaultyTick needs.
type TickRun struct {
	Pool *pgxpool.Pool
	// Client queues faulty.send in the transaction of each decision; nil
	// leaves the emails pending for a later enqueue.
	Client *river.Client[pgx.Tx]
	Ladder FaultyLadderDeps
	Now    time.Time
	// Actor is the audit actor (system:faulty.tick or a user).
	Actor string
	// BatchIDs limits the run to these batches (Run now); nil means every active batch.
	BatchIDs []string
	Metrics  *metrics.Metrics
	Logger   *slog.Logger
}

// RunFaultyTick evaluates every active batch's timeline once (app.Tick).
func RunFaultyTick(ctx context.Context, r TickRun) (TickResult, error) {
	a := r.Ladder.app(r.Pool, r.Client, r.Metrics, r.Logger)
	return a.Tick(ctx, app.TickInput{Now: r.Now, Actor: actorOf(r.Actor), BatchIDs: r.BatchIDs})
}

// LevelText is a level in words, lower case ("final reminder").
func LevelText(l faulty.Level) string { return app.LevelText(l) }

// EscalateRun is what EscalateBatch needs.
type EscalateRun struct {
	Pool    *pgxpool.Pool
	Client  *river.Client[pgx.Tx]
	Ladder  FaultyLadderDeps
	BatchID string
	Note    string
	Actor   string
	Now     time.Time
	Metrics *metrics.Metrics
}

// EscalateBatch decides a re-escalation (app.Reescalate).
func EscalateBatch(ctx context.Context, r EscalateRun) (store.FaultyEmail, error) {
	a := r.Ladder.app(r.Pool, r.Client, r.Metrics, nil)
	return a.Reescalate(ctx, actorOf(r.Actor), r.BatchID, r.Note, r.Now)
}

// SendFaultyEmail makes one attempt at an outbox row (app.Send).
func SendFaultyEmail(ctx context.Context, pool *pgxpool.Pool, d FaultyLadderDeps, m *metrics.Metrics, emailID int64, final bool, actor string) (SendResult, error) {
	return d.app(pool, nil, m, nil).Send(ctx, actorOf(actor), emailID, final)
}

// BuildFaultyMessage turns an outbox row into the message to send (app.BuildFaultyMessage).
var BuildFaultyMessage = app.BuildFaultyMessage

// EmailItemOf turns a batch item into the line an email lists.
var EmailItemOf = app.EmailItemOf

// FaultyTickWorker runs the tick.
type FaultyTickWorker struct {
	river.WorkerDefaults[FaultyTickArgs]
	App *app.App
	// Pool, Logger, Metrics and Ladder stand in for App when App is nil (older callers).
	Pool    *pgxpool.Pool
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	Ladder  FaultyLadderDeps
}

func (w *FaultyTickWorker) app() *app.App {
	if w.App != nil {
		return w.App
	}
	return w.Ladder.app(w.Pool, nil, w.Metrics, w.Logger)
}

// Work evaluates every active batch once and decides the due emails.
func (w *FaultyTickWorker) Work(ctx context.Context, job *river.Job[FaultyTickArgs]) error {
	_, err := w.app().Tick(ctx, app.TickInput{Actor: app.System(job.Args.Kind())})
	return err
}

// FaultySendWorker sends one outbox email.
type FaultySendWorker struct {
	river.WorkerDefaults[FaultySendArgs]
	App *app.App
	// Pool, Logger, Metrics and Ladder stand in for App when App is nil (older callers).
	Pool    *pgxpool.Pool
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	Ladder  FaultyLadderDeps
}

func (w *FaultySendWorker) app() *app.App {
	if w.App != nil {
		return w.App
	}
	return w.Ladder.app(w.Pool, nil, w.Metrics, w.Logger)
}

// Work makes one send attempt; a temporary failure returns an error so River
// retries, the last attempt turns it into failed.
func (w *FaultySendWorker) Work(ctx context.Context, job *river.Job[FaultySendArgs]) error {
	final := job.Attempt >= job.MaxAttempts
	_, err := w.app().Send(ctx, app.System(job.Args.Kind()), job.Args.EmailID, final)
	if apperror.CodeOf(err) == apperror.NotFound {
		return river.JobCancel(err)
	}
	return err
}

// NextRetry applies the configured retry delay, if any.
func (w *FaultySendWorker) NextRetry(job *river.Job[FaultySendArgs]) time.Time {
	if w.app().Faulty.RetryDelay > 0 {
		return time.Now().Add(w.app().Faulty.RetryDelay)
	}
	return time.Time{}
}

// Timeout bounds one send attempt (the SMTP timeout is shorter).
func (w *FaultySendWorker) Timeout(*river.Job[FaultySendArgs]) time.Duration { return 3 * time.Minute }

// addFaultyLadderWorkers registers the tick and send workers.
func addFaultyLadderWorkers(w *river.Workers, d Deps) {
	river.AddWorker(w, &FaultyTickWorker{App: d.App})
	river.AddWorker(w, &FaultySendWorker{App: d.App})
}

// faultyLadderPeriodic lists the ladder's periodic jobs: faulty.tick every
// 15 minutes. Not run on start: a process that (re)starts waits for the next
// interval, so short-lived processes (tests, CLI) do not send emails as a
// side effect.
func faultyLadderPeriodic() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(TickEvery), func() (river.JobArgs, *river.InsertOpts) {
			return FaultyTickArgs{}, &river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByPeriod: TickEvery}}
		}, &river.PeriodicJobOpts{ID: FaultyTickArgs{}.Kind()}),
	}
}
