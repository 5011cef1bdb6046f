// Package web is Recondesk's HTTP layer: routes, middleware and thin
// handlers that load, call the domain, write and render.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"recondesk/internal/app"
	"recondesk/internal/auth"
	"recondesk/internal/config"
	"recondesk/internal/metrics"
	"recondesk/internal/store"
)

// Check is one dependency probed by /readyz.
type Check struct {
	Name  string
	Probe func(ctx context.Context) error
}

// Deps are everything the HTTP layer uses.
type Deps struct {
	// App is the application layer the handlers call; nil builds one from
	// the fields below (NewServer).
	App      *app.App
	Logger   *slog.Logger
	Config   config.Config
	Pool     *pgxpool.Pool
	River    *river.Client[pgx.Tx]
	Sessions *scs.SessionManager
	Metrics  *metrics.Metrics
	// Checks are the dependencies /readyz reports on, besides PostgreSQL.
	Checks []Check
	// RiverUI is mounted at /admin/jobs for admins; nil leaves it out.
	RiverUI http.Handler
	// Mailbox turns on Admin → Mailbox (the embedded SMTP sink of `dev`).
	Mailbox bool
	// Hashing is the argon2id cost; tests lower it.
	Hashing auth.Params
	// Throttle limits failed sign-ins.
	Throttle auth.Throttle
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// EZPass and Faulty are the modules' own dependencies (web/ezpass.go, web/faulty.go).
	EZPass EZPassDeps
	Faulty FaultyDeps
}

// NewSessions returns the session manager with Recondesk's cookie policy:
// HttpOnly, SameSite=Lax, Secure over TLS, 30 minutes idle, 12 hours in all,
// stored in PostgreSQL.
func NewSessions(pool *pgxpool.Pool, secure bool) *scs.SessionManager {
	s := scs.New()
	s.Store = store.NewSessionStore(pool) // no write per request (see SessionStore)
	s.IdleTimeout = 30 * time.Minute
	s.Lifetime = 12 * time.Hour
	s.Cookie.Name = "recondesk_session"
	s.Cookie.HttpOnly = true
	s.Cookie.SameSite = http.SameSiteLaxMode
	s.Cookie.Secure = secure
	s.Cookie.Path = "/"
	return s
}

// NewServer builds the HTTP handler with every route and middleware.
func NewServer(d Deps) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Hashing == (auth.Params{}) {
		d.Hashing = auth.DefaultParams
	}
	if d.Throttle == (auth.Throttle{}) {
		d.Throttle = auth.DefaultThrottle
	}
	if d.App == nil {
		d.App = app.New(app.Deps{Pool: d.Pool, Logger: d.Logger, Metrics: d.Metrics, Config: d.Config, Now: d.Now, Faulty: faultyAppDeps(d)})
		d.App.UseJobs(d.River)
	}
	if d.App.Auth.Hashing == (auth.Params{}) {
		d.App.Auth.Hashing = d.Hashing
	}
	if d.App.Auth.Throttle == (auth.Throttle{}) {
		d.App.Auth.Throttle = d.Throttle
	}
	if d.Sessions != nil && d.App.Auth.SessionLifetime == 0 {
		d.App.Auth.SessionLifetime = d.Sessions.Lifetime
	}
	return routes(d)
}
