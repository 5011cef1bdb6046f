package app

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"recondesk/internal/store"
)

// EZPassMatchDeps are what association, posting and manual work need.
type EZPassMatchDeps struct {
	// AutoPost queues posting after association and manual assignment
	// (EZPASS_AUTO_POST; Config.EZPassAutoPost turns it on too).
	AutoPost bool
	// TZ is EZPASS_TZ, the zone of times in failure messages; nil falls
	// back to Config.EZPassTZ, then America/New_York.
	TZ *time.Location
	// PostChunk is how many tolls one posting transaction takes (0: store.DefaultPostChunk).
	PostChunk int
	// AnalyzeAfter is how many rewritten tolls make association refresh the
	// tolls' statistics before it commits (0: DefaultAnalyzeAfter; <0: never).
	AnalyzeAfter int
}

// DefaultAnalyzeAfter is the number of rows an association run rewrites
// from which it runs ANALYZE: with autovacuum off or late, the planner
// would otherwise see every new status as rare and plan posting badly.
const DefaultAnalyzeAfter = 10000

func (a *App) matchTZ() *time.Location {
	if a.EZPass.Match.TZ != nil {
		return a.EZPass.Match.TZ
	}
	if a.Config.EZPassTZ != nil {
		return a.Config.EZPassTZ
	}
	if loc, err := time.LoadLocation("America/New_York"); err == nil {
		return loc
	}
	return time.UTC
}

func (a *App) autoPost() bool { return a.EZPass.Match.AutoPost || a.Config.EZPassAutoPost }

// ActorOf is who a job runs for: the user who asked (userID), else the
// system as the job kind.
func ActorOf(userID int64, kind string) Actor {
	if userID != 0 {
		return User(userID)
	}
	return System(kind)
}

// Associate matches every unposted toll and credit to a vehicle, lease,
// driver and medallion in one transaction (set-based), audits the run in
// it, refreshes the tolls' statistics when many rows changed, and, with
// auto-posting, queues posting in that same transaction.
func (a *App) Associate(ctx context.Context, actor Actor, trigger string) (store.AssociationCounts, error) {
	var counts store.AssociationCounts
	err := a.inTx(ctx, func(tx pgx.Tx) error {
		if err := store.LockAssociation(ctx, tx); err != nil {
			return err
		}
		var err error
		if counts, err = store.Associate(ctx, tx, a.matchTZ()); err != nil {
			return err
		}
		after := map[string]any{"counts": counts, "trigger": trigger}
		if err := store.Audit(ctx, tx, actor.String(), "ezpass.associate", "ezpass", "association", nil, after, ""); err != nil {
			return err
		}
		limit := a.EZPass.Match.AnalyzeAfter
		if limit == 0 {
			limit = DefaultAnalyzeAfter
		}
		if limit > 0 && counts.Changed >= limit {
			took, err := store.AnalyzeTolls(ctx, tx)
			if err != nil {
				return err
			}
			a.Logger.Info("ezpass association analyzed tolls", "changed", counts.Changed, "took_ms", took.Milliseconds())
		}
		if a.autoPost() && counts.Associated() > 0 {
			_, err = a.insertTx(ctx, tx, EZPassPostArgs{Trigger: "association", RequestedBy: actor.UserID}, nil)
		}
		return err
	})
	if err != nil {
		return counts, err
	}
	a.Metrics.Events.WithLabelValues("ezpass.associate", "tag").Add(float64(counts.ByTag))
	a.Metrics.Events.WithLabelValues("ezpass.associate", "plate").Add(float64(counts.ByPlate))
	for code, n := range counts.Failed {
		a.Metrics.Events.WithLabelValues("ezpass.associate", code).Add(float64(n))
	}
	return counts, nil
}

// Post posts every associated toll and credit to its driver's ledger,
// chunk by chunk: each chunk's journals, statuses and audit event commit
// together, so a run failing part-way leaves every posting audited.
func (a *App) Post(ctx context.Context, actor Actor, trigger string) (store.PostingCounts, error) {
	return a.PostReporting(ctx, actor, trigger, nil)
}

// PostReporting is Post calling report in each chunk's transaction with
// the run's counts so far (a job records its progress there).
func (a *App) PostReporting(ctx context.Context, actor Actor, trigger string, report func(ctx context.Context, tx pgx.Tx, total store.PostingCounts) error) (store.PostingCounts, error) {
	counts, err := store.PostEach(ctx, a.Pool, actor.String(), a.EZPass.Match.PostChunk, func(ctx context.Context, tx pgx.Tx, chunk, total store.PostingCounts) error {
		if err := store.AuditPostChunk(ctx, tx, actor.String(), trigger, chunk, total); err != nil {
			return err
		}
		if report != nil {
			return report(ctx, tx, total)
		}
		return nil
	})
	a.Metrics.Events.WithLabelValues("ezpass.post", "posted").Add(float64(counts.Posted))
	for code, n := range counts.Failed {
		a.Metrics.Events.WithLabelValues("ezpass.post", code).Add(float64(n))
	}
	return counts, err
}

// JobRequest is a queued run: its River job, and whether it was already
// queued or running when asked (no second one was added).
type JobRequest struct {
	JobID         int64 `json:"job_id"`
	AlreadyQueued bool  `json:"already_queued"`
}

// onDemandOpts keeps one on-demand run of a kind at a time: a request while
// one is queued, running or waiting to retry gets that one back. Runs queued
// by imports and assignments are not unique (a run already past a toll must
// not swallow the request that covers it).
func onDemandOpts() *river.InsertOpts {
	return &river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

func (a *App) request(ctx context.Context, args river.JobArgs) (JobRequest, error) {
	var req JobRequest
	err := a.inTx(ctx, func(tx pgx.Tx) error {
		res, err := a.insertTx(ctx, tx, args, onDemandOpts())
		if err != nil {
			return err
		}
		req = JobRequest{JobID: res.Job.ID, AlreadyQueued: res.UniqueSkippedAsDuplicate}
		return nil
	})
	return req, err
}

// RequestAssociate queues an association run for actor and returns at
// once; while one is queued or running, it returns that one.
func (a *App) RequestAssociate(ctx context.Context, actor Actor, trigger string) (JobRequest, error) {
	return a.request(ctx, EZPassAssociateArgs{Trigger: trigger, RequestedBy: actor.UserID})
}

// RequestPost queues a posting run for actor and returns at once; while
// one is queued or running, it returns that one.
func (a *App) RequestPost(ctx context.Context, actor Actor, trigger string) (JobRequest, error) {
	return a.request(ctx, EZPassPostArgs{Trigger: trigger, RequestedBy: actor.UserID})
}

// RunStatus is the latest run of one job kind as a page shows it.
type RunStatus struct {
	JobID      int64
	State      rivertype.JobState // "" when there was never a run
	Active     bool               // queued, running or waiting to retry
	Attempt    int
	CreatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
	// Output is what the run reported: its counts when done, its progress
	// while running (posting), nil otherwise.
	Output json.RawMessage
	// Error is the last attempt's error, if any.
	Error string
}

// MatchRuns are the latest association and posting runs.
type MatchRuns struct {
	Associate RunStatus
	Post      RunStatus
}

// Active reports whether either run is queued or running.
func (m MatchRuns) Active() bool { return m.Associate.Active || m.Post.Active }

var activeStates = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled}

// MatchRuns returns the association and posting runs to show: the oldest
// queued or running one of each kind, else the latest finished.
func (a *App) MatchRuns(ctx context.Context) (MatchRuns, error) {
	var m MatchRuns
	var err error
	if m.Associate, err = a.runStatus(ctx, EZPassAssociateArgs{}.Kind()); err != nil {
		return m, err
	}
	m.Post, err = a.runStatus(ctx, EZPassPostArgs{}.Kind())
	return m, err
}

func (a *App) runStatus(ctx context.Context, kind string) (RunStatus, error) {
	if a.jobs == nil {
		return RunStatus{}, nil
	}
	res, err := a.jobs.JobList(ctx, river.NewJobListParams().Kinds(kind).States(activeStates...).
		OrderBy(river.JobListOrderByID, river.SortOrderAsc).First(1))
	if err != nil {
		return RunStatus{}, err
	}
	if len(res.Jobs) == 0 {
		res, err = a.jobs.JobList(ctx, river.NewJobListParams().Kinds(kind).
			OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(1))
		if err != nil || len(res.Jobs) == 0 {
			return RunStatus{}, err
		}
	}
	j := res.Jobs[0]
	s := RunStatus{JobID: j.ID, State: j.State, Attempt: j.Attempt, CreatedAt: j.CreatedAt, StartedAt: j.AttemptedAt,
		FinishedAt: j.FinalizedAt, Output: j.Output()}
	for _, st := range activeStates {
		s.Active = s.Active || j.State == st
	}
	if n := len(j.Errors); n > 0 {
		s.Error = j.Errors[n-1].Error
	}
	if kind == (EZPassPostArgs{}).Kind() && j.State == rivertype.JobStateRunning && j.AttemptedAt != nil {
		// Posting commits chunk by chunk, each with its audit event: the
		// latest one since the attempt began is the run's progress.
		progress, ok, err := store.PostingProgress(ctx, a.Pool, *j.AttemptedAt)
		if err != nil {
			return s, err
		}
		if ok {
			s.Output, _ = json.Marshal(progress)
		}
	}
	return s, nil
}
