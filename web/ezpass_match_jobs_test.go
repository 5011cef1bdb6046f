package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"

	"recondesk/internal/app"
	"recondesk/internal/jobs"
)

// workMatchJobs works every queued association and posting job (and the
// ones they queue) with the real workers, oldest first, and returns each
// job's recorded output. The web tests' River client only inserts.
func workMatchJobs(t *testing.T, b *bundle) []map[string]any {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	a := app.New(app.Deps{Pool: b.db.Pool, Logger: log, Config: b.deps.Config})
	a.UseJobs(b.deps.River)
	drv := riverpgxv5.New(b.db.Pool)
	assoc := rivertest.NewWorker(t, drv, &river.Config{}, &jobs.EZPassAssociateWorker{App: a, Logger: log})
	post := rivertest.NewWorker(t, drv, &river.Config{}, &jobs.EZPassPostWorker{App: a, Logger: log})
	var outs []map[string]any
	for range 20 {
		res, err := b.deps.River.JobList(ctx, river.NewJobListParams().Kinds(jobs.EZPassAssociateArgs{}.Kind(), jobs.EZPassPostArgs{}.Kind()).
			States(rivertype.JobStateAvailable).OrderBy(river.JobListOrderByID, river.SortOrderAsc).First(1))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Jobs) == 0 {
			return outs
		}
		job := res.Jobs[0]
		tx, err := b.db.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var r *rivertest.WorkResult
		if job.Kind == (jobs.EZPassAssociateArgs{}).Kind() {
			r, err = assoc.WorkJob(ctx, t, tx, job)
		} else {
			r, err = post.WorkJob(ctx, t, tx, job)
		}
		if err != nil {
			tx.Rollback(ctx)
			t.Fatalf("job %s #%d: %v", job.Kind, job.ID, err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		if err := json.Unmarshal(r.Job.Output(), &out); err != nil {
			t.Fatalf("job %s #%d output %q: %v", job.Kind, job.ID, r.Job.Output(), err)
		}
		outs = append(outs, out)
	}
	t.Fatal("more than 20 association and posting jobs queued")
	return nil
}
