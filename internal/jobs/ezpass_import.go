package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"recondesk/internal/apperror"
	"recondesk/internal/metrics"
	"recondesk/internal/store"
)

// addEZPassImportWorkers registers the import worker.
func addEZPassImportWorkers(w *river.Workers, d Deps) {
	river.AddWorker(w, &EZPassImportWorker{Pool: d.Pool, Logger: d.Logger, Metrics: d.Metrics})
}

// EZPassImportWorker loads an uploaded E-ZPass file and then asks for
// association, in the transaction that makes the rows visible.
type EZPassImportWorker struct {
	river.WorkerDefaults[EZPassImportArgs]
	Pool    *pgxpool.Pool
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	// Options tunes the import (tests lower the caps); Finish is set by Work.
	Options store.ImportOptions
}

// Timeout allows a million-row file (River's default is one minute).
func (w *EZPassImportWorker) Timeout(*river.Job[EZPassImportArgs]) time.Duration { return time.Hour }

// Work runs the import; on its last attempt a failure marks the import
// failed so that the page does not show it running forever.
func (w *EZPassImportWorker) Work(ctx context.Context, job *river.Job[EZPassImportArgs]) error {
	opts := w.Options
	opts.Finish = func(ctx context.Context, tx pgx.Tx, imp store.EZPassImport) error {
		if imp.Inserted == 0 {
			return nil
		}
		client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
		if err != nil {
			return err
		}
		_, err = client.InsertTx(ctx, tx, EZPassAssociateArgs{ImportID: imp.ID, Trigger: "import"}, nil)
		return err
	}
	began := time.Now()
	imp, err := store.RunEZPassImport(ctx, w.Pool, job.Args.ImportID, opts)
	if err != nil {
		if apperror.CodeOf(err) == apperror.NotFound {
			return river.JobCancel(err)
		}
		if job.Attempt >= job.MaxAttempts {
			msg := "The import stopped on a server error after several attempts; it has been logged. Upload the file again later, or ask an administrator."
			if ferr := store.FailEZPassImport(context.WithoutCancel(ctx), w.Pool, job.Args.ImportID, msg); ferr != nil {
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
