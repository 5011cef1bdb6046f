package jobs

import (
	"context"
	"log/slog"
	"reflect"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"recondesk/internal/app"
	"recondesk/internal/apperror"
	"recondesk/internal/metrics"
	"recondesk/internal/store"
)

// EZPassImportRecoverArgs is the periodic recovery of stranded imports.
type EZPassImportRecoverArgs = app.EZPassImportRecoverArgs

// ImportRecoverEvery is how often stranded imports are looked for.
const ImportRecoverEvery = time.Minute

// addEZPassImportWorkers registers the import workers.
func addEZPassImportWorkers(w *river.Workers, d Deps) {
	river.AddWorker(w, &EZPassImportWorker{App: d.App, Logger: d.Logger, Metrics: d.Metrics})
	river.AddWorker(w, &EZPassImportRecoverWorker{App: d.App, Logger: d.Logger})
}

// ezpassImportPeriodic looks for stranded imports every minute and on start.
func ezpassImportPeriodic() []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(ImportRecoverEvery),
		func() (river.JobArgs, *river.InsertOpts) {
			return EZPassImportRecoverArgs{}, &river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByPeriod: ImportRecoverEvery}}
		}, &river.PeriodicJobOpts{ID: EZPassImportRecoverArgs{}.Kind(), RunOnStart: true})}
}

// EZPassImportWorker runs app.RunImport: it loads an uploaded E-ZPass file
// and queues association in the transaction that makes the rows visible.
type EZPassImportWorker struct {
	river.WorkerDefaults[EZPassImportArgs]
	// App runs the use case; nil builds one from Pool (older callers).
	App     *app.App
	Pool    *pgxpool.Pool
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	// Options tunes the import (tests lower the caps).
	Options store.ImportOptions
}

// ImportTimeout bounds one import run: a million-row file loads in a few
// minutes; 15 leave room on a busy machine. A process that dies mid-import
// is recovered by the periodic ezpass.import.recover job (within a minute
// or so of a worker running), and River rescues its job once this timeout
// has passed (RescueStuckJobsAfter in jobs.go).
const ImportTimeout = 15 * time.Minute

// Timeout allows a million-row file (River's default is one minute).
func (w *EZPassImportWorker) Timeout(*river.Job[EZPassImportArgs]) time.Duration {
	return ImportTimeout
}

// Work runs the import; on its last attempt a failure marks the import
// failed so that the page does not show it running forever.
func (w *EZPassImportWorker) Work(ctx context.Context, job *river.Job[EZPassImportArgs]) error {
	a := w.app()
	began := time.Now()
	imp, err := a.RunImport(ctx, job.Args.ImportID)
	if err != nil {
		if apperror.CodeOf(err) == apperror.NotFound {
			return river.JobCancel(err)
		}
		if job.Attempt >= job.MaxAttempts {
			if ferr := a.FailImport(context.WithoutCancel(ctx), job.Args.ImportID); ferr != nil {
				w.log().Error("mark import failed", "import_id", job.Args.ImportID, "err", ferr.Error())
			}
			w.count("ezpass.import", store.ImportFailed, 1)
		}
		return err
	}
	w.log().Info("ezpass import finished", "job_id", job.ID, "import_id", imp.ID, "status", imp.Status, "format", imp.Format,
		"rows_read", imp.RowsRead, "inserted", imp.Inserted, "duplicates", imp.Duplicates, "conflicts", imp.Conflicts,
		"errors", imp.Errors, "duration", time.Since(began).String())
	w.count("ezpass.import", imp.Status, 1)
	w.count("ezpass.import.rows", "inserted", imp.Inserted)
	w.count("ezpass.import.rows", "duplicate", imp.Duplicates)
	w.count("ezpass.import.rows", "conflict", imp.Conflicts)
	w.count("ezpass.import.rows", "error", imp.Errors)
	return nil
}

// app returns the application layer, with the worker's Options applied.
func (w *EZPassImportWorker) app() *app.App {
	a := w.App
	if a == nil {
		a = app.New(app.Deps{Pool: w.Pool, Logger: w.Logger, Metrics: w.Metrics})
	}
	if !reflect.DeepEqual(w.Options, store.ImportOptions{}) {
		c := *a
		c.EZPass.Import.Options = w.Options
		a = &c
	}
	return a
}

func (w *EZPassImportWorker) log() *slog.Logger {
	if w.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Logger
}

func (w *EZPassImportWorker) count(event, outcome string, n int) {
	if w.Metrics != nil && n > 0 {
		w.Metrics.Events.WithLabelValues(event, outcome).Add(float64(n))
	}
}

// EZPassImportRecoverWorker runs app.RecoverImports.
type EZPassImportRecoverWorker struct {
	river.WorkerDefaults[EZPassImportRecoverArgs]
	App    *app.App
	Logger *slog.Logger
}

// Work ends the imports stranded by a dead process as failed.
func (w *EZPassImportRecoverWorker) Work(ctx context.Context, _ *river.Job[EZPassImportRecoverArgs]) error {
	ids, err := w.App.RecoverImports(ctx)
	if len(ids) > 0 && w.Logger != nil {
		w.Logger.Warn("ezpass imports interrupted by a dead process marked failed", "import_ids", ids)
	}
	return err
}
