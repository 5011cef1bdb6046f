package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"recondesk/internal/app"
)

// InboxPollEvery is the interval of the periodic inbox.poll job.
const InboxPollEvery = time.Minute

// InboxPollArgs is the inbox.poll job (alias of the use case's Args).
type InboxPollArgs = app.InboxPollArgs

// InboxPollWorker reads new partner mail from the finance mailbox.
type InboxPollWorker struct {
	river.WorkerDefaults[InboxPollArgs]
	App *app.App
}

// Work polls the mailbox once; a poll already running elsewhere makes it a no-op.
func (w *InboxPollWorker) Work(ctx context.Context, job *river.Job[InboxPollArgs]) error {
	_, err := w.App.PollInbox(ctx, app.System(InboxPollArgs{}.Kind()))
	return err
}

// Timeout bounds one poll.
func (w *InboxPollWorker) Timeout(*river.Job[InboxPollArgs]) time.Duration { return 10 * time.Minute }

func addInboxWorkers(w *river.Workers, d Deps) {
	river.AddWorker(w, &InboxPollWorker{App: d.App})
}

// inboxPeriodic polls every minute, only when IMAP_URL is set; unique per
// minute so two leaders or a restart never queue two polls for one minute.
func inboxPeriodic(d Deps) []*river.PeriodicJob {
	if d.App == nil || d.App.Config.IMAPURL == "" {
		return nil
	}
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(InboxPollEvery), func() (river.JobArgs, *river.InsertOpts) {
		return InboxPollArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: InboxPollEvery}}
	}, &river.PeriodicJobOpts{ID: InboxPollArgs{}.Kind(), RunOnStart: true})}
}
