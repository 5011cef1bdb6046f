// Package jobs holds Recondesk's River job kinds (Args + thin Worker), the
// periodic schedule, and the client set-up for the web and worker roles.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"recondesk/internal/app"
	"recondesk/internal/metrics"
)

// Role says what a process does with jobs.
type Role string

// The process roles of `recondesk serve --role`.
const (
	RoleAll    Role = "all"    // serve HTTP and work jobs
	RoleWeb    Role = "web"    // serve HTTP; only insert jobs
	RoleWorker Role = "worker" // work jobs; no HTTP beyond health
)

// ParseRole validates a --role value.
func ParseRole(s string) (Role, error) {
	switch Role(s) {
	case RoleAll, RoleWeb, RoleWorker:
		return Role(s), nil
	}
	return "", fmt.Errorf("--role %q must be all, web or worker", s)
}

// Works reports whether the role runs workers.
func (r Role) Works() bool { return r == RoleAll || r == RoleWorker }

// Serves reports whether the role serves the web UI and API.
func (r Role) Serves() bool { return r == RoleAll || r == RoleWeb }

// Deps are what workers need; modules add their own fields.
type Deps struct {
	// App is the application layer the workers call; nil builds one from
	// the fields below (withApp).
	App     *app.App
	Pool    *pgxpool.Pool
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	// Schedule overrides the periodic intervals (tests use short ones).
	Schedule Schedule

	// EZPass and Faulty are the modules' own dependencies (ezpass.go, faulty.go).
	EZPass EZPassDeps
	Faulty FaultyDeps
}

// Schedule is the interval of every periodic job.
type Schedule struct {
	Prune time.Duration
}

// DefaultSchedule is the production schedule.
var DefaultSchedule = Schedule{Prune: time.Hour}

func (s Schedule) withDefaults() Schedule {
	if s.Prune == 0 {
		s.Prune = DefaultSchedule.Prune
	}
	return s
}

// withApp returns d with App set, building the application layer from d's
// own fields when the caller gave none.
func (d Deps) withApp() Deps {
	if d.App == nil {
		d.App = app.New(app.Deps{Pool: d.Pool, Logger: d.Logger, Metrics: d.Metrics, Now: d.Faulty.now(), Faulty: d.Faulty.App(),
			EZPass: app.EZPassDeps{Match: ezpassMatchAppDeps(d)}})
	}
	return d
}

// Workers registers every worker with its dependencies.
func Workers(d Deps) *river.Workers {
	d = d.withApp()
	w := river.NewWorkers()
	river.AddWorker(w, &PruneWorker{Pool: d.Pool})
	river.AddWorker(w, &LedgerCheckBalancesWorker{App: d.App})
	addEZPassWorkers(w, d)
	addFaultyWorkers(w, d)
	addInboxWorkers(w, d)
	return w
}

// Periodic lists every periodic job; River's elected leader inserts them,
// and unique-by-period options keep one job per period even across leaders.
func Periodic(s Schedule) []*river.PeriodicJob {
	s = s.withDefaults()
	periodic := []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(s.Prune), func() (river.JobArgs, *river.InsertOpts) {
			return PruneArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: s.Prune}}
		}, &river.PeriodicJobOpts{ID: PruneArgs{}.Kind(), RunOnStart: true}),
	}
	periodic = append(periodic, ezpassPeriodic()...)
	periodic = append(periodic, ledgerPeriodic()...)
	return append(periodic, faultyPeriodic()...)
}

// RescueStuckJobsAfter is how long a job may run before River takes it for
// abandoned by a dead process (never before its worker's Timeout).
const RescueStuckJobsAfter = 2 * time.Minute

// NewClient builds the River client for a role: workers and queues only
// when the role works jobs.
func NewClient(d Deps, role Role) (*river.Client[pgx.Tx], error) {
	d = d.withApp()
	cfg := &river.Config{
		Logger:  d.Logger.With("component", "river"),
		Workers: Workers(d),
		// A job left running by a dead process is retried after this long,
		// or after its worker's own Timeout when that is longer.
		RescueStuckJobsAfter: RescueStuckJobsAfter,
	}
	if role.Works() {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 8}}
		cfg.PeriodicJobs = append(Periodic(d.Schedule), inboxPeriodic(d)...)
	}
	client, err := river.NewClient(riverpgxv5.New(d.Pool), cfg)
	if err != nil {
		return nil, err
	}
	if d.App.Jobs() == nil {
		d.App.UseJobs(client)
	}
	return client, nil
}

// Observe records job durations and outcomes until ctx ends.
func Observe(ctx context.Context, c *river.Client[pgx.Tx], m *metrics.Metrics) {
	events, cancel := c.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled, river.EventKindJobSnoozed)
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			outcome := string(ev.Kind)
			m.JobsTotal.WithLabelValues(ev.Job.Kind, outcome).Inc()
			if ev.JobStats != nil {
				m.JobDuration.WithLabelValues(ev.Job.Kind, outcome).Observe(ev.JobStats.RunDuration.Seconds())
			}
		}
	}
}
