// Package app holds Recondesk's use cases: one exported method per thing a
// person, the API, the CLI or the schedule can do. Each use case owns its
// transaction, writes its audit event in that transaction and inserts its
// follow-up jobs there too (InsertTx). Handlers, API handlers, CLI commands
// and River workers only parse input, call one use case and render or print.
package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"recondesk/internal/config"
	"recondesk/internal/metrics"
	"recondesk/internal/store"
)

// Deps are what the use cases need. The modules keep their own parts in
// EZPass (ezpass.go) and Faulty (faulty.go).
type Deps struct {
	Pool    *pgxpool.Pool
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	Config  config.Config
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	EZPass EZPassDeps
	Faulty FaultyDeps
	Auth   AuthDeps
}

// App is the application layer. Build it with New, then hand it the River
// client with UseJobs once the client (whose workers call back into App) exists.
type App struct {
	Deps
	jobs *river.Client[pgx.Tx]
}

// New returns the application layer over d, filling in defaults.
func New(d Deps) *App {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Metrics == nil {
		d.Metrics = metrics.New()
	}
	return &App{Deps: d}
}

// UseJobs sets the River client the use cases insert follow-up jobs with.
func (a *App) UseJobs(c *river.Client[pgx.Tx]) { a.jobs = c }

// Jobs is the River client set by UseJobs (nil before).
func (a *App) Jobs() *river.Client[pgx.Tx] { return a.jobs }

// errNoJobs is returned by a use case that must queue a job when no River
// client was set: a wiring mistake, never a user's.
var errNoJobs = errors.New("app: no River client (call UseJobs)")

// insertTx queues args in tx, so the job exists exactly when tx commits.
// Inside a worker without UseJobs it uses the client that runs the worker.
func (a *App) insertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	c := a.jobs
	if c == nil {
		fromCtx, err := river.ClientFromContextSafely[pgx.Tx](ctx)
		if err != nil {
			return nil, errNoJobs
		}
		c = fromCtx
	}
	return c.InsertTx(ctx, tx, args, opts)
}

// inTx runs fn in one transaction, committing when it returns nil.
func (a *App) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return store.InTx(ctx, a.Pool, fn)
}

// Actor is who performs a use case: a signed-in user (browser or API token)
// or the system on behalf of a job kind or command.
type Actor struct {
	UserID int64
	System string
}

// User is the actor for a signed-in user.
func User(id int64) Actor { return Actor{UserID: id} }

// System is the actor for work the system does on its own (a job kind, the CLI).
func System(kind string) Actor { return Actor{System: kind} }

// String is the actor as audit events record it ("user:1", "system:ezpass.post").
func (a Actor) String() string {
	if a.UserID != 0 {
		return store.UserActor(a.UserID)
	}
	if a.System == "" {
		return store.SystemActor("unknown")
	}
	return store.SystemActor(a.System)
}
