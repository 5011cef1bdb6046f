package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"recondesk/internal/app"
)

// LedgerCheckBalancesArgs is the daily driver-balance check.
type LedgerCheckBalancesArgs = app.LedgerCheckBalancesArgs

// LedgerCheckBalancesEvery is the interval of the balance check.
const LedgerCheckBalancesEvery = 24 * time.Hour

// LedgerCheckBalancesWorker runs app.App.CheckDriverBalances; a mismatch is
// logged and audited by the use case, and the job still completes (running
// it again would find the same rows).
type LedgerCheckBalancesWorker struct {
	river.WorkerDefaults[LedgerCheckBalancesArgs]
	App *app.App
}

// Work runs the check.
func (w *LedgerCheckBalancesWorker) Work(ctx context.Context, job *river.Job[LedgerCheckBalancesArgs]) error {
	_, err := w.App.CheckDriverBalances(ctx, app.System(job.Kind))
	return err
}

// Timeout leaves the check time to read a large ledger.
func (w *LedgerCheckBalancesWorker) Timeout(*river.Job[LedgerCheckBalancesArgs]) time.Duration {
	return 10 * time.Minute
}

func ledgerPeriodic() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(LedgerCheckBalancesEvery), func() (river.JobArgs, *river.InsertOpts) {
			return LedgerCheckBalancesArgs{}, nil
		}, &river.PeriodicJobOpts{ID: LedgerCheckBalancesArgs{}.Kind()}),
	}
}
