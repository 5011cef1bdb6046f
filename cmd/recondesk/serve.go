package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"
	"riverqueue.com/riverui"

	"recondesk/internal/app"
	"recondesk/internal/config"
	"recondesk/internal/jobs"
	"recondesk/internal/metrics"
	"recondesk/internal/store"
	"recondesk/web"
)

// extras are what `dev` adds to a server: embedded dependencies and checks.
type extras struct {
	checks  []web.Check
	mailbox bool
	// tickOnStart evaluates the faulty-bookings timelines right away, so the
	// demo shows its email threads without waiting for the 15-minute tick.
	tickOnStart bool
}

func cmdServe(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	roleFlag := fs.String("role", "all", "all, web or worker")
	if err := fs.Parse(args); err != nil {
		return err
	}
	role, err := jobs.ParseRole(*roleFlag)
	if err != nil {
		return err
	}
	pool, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	ex, err := productionExtras(ctx, cfg)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, log, pool, role, ex, stdout)
}

// productionExtras are the readiness checks of the configured dependencies.
func productionExtras(ctx context.Context, cfg config.Config) (extras, error) {
	return extras{checks: dependencyChecks(cfg)}, nil
}

func cmdMigrate(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	pool, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	n, err := store.Migrate(ctx, pool)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "migrations applied: %d\n", n)
	return nil
}

// serve runs the HTTP server and/or the River workers until ctx ends.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, pool *pgxpool.Pool, role jobs.Role, ex extras, stdout io.Writer) error {
	if err := checkSchema(ctx, pool); err != nil {
		return err
	}
	m := metrics.New()
	schedule := jobs.Schedule{Prune: cfg.PruneInterval}
	ladder, err := jobs.FaultyLadderFromConfig(cfg)
	if err != nil {
		return err
	}
	pipeline, stopPipeline, err := faultyPipelineDeps(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stopPipeline()
	a := app.New(app.Deps{Pool: pool, Logger: log, Metrics: m, Config: cfg, Faulty: jobs.FaultyDeps{Ladder: ladder, Pipeline: pipeline}.App()})
	client, err := jobs.NewClient(jobs.Deps{
		App:  a,
		Pool: pool, Logger: log, Metrics: m, Schedule: schedule,
		EZPass: jobs.EZPassDeps{AutoPost: cfg.EZPassAutoPost, TZ: cfg.EZPassTZ},
		Faulty: jobs.FaultyDeps{Ladder: ladder, Pipeline: pipeline},
	}, role)
	if err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	if role.Works() {
		if err := client.Start(ctx); err != nil {
			return fmt.Errorf("start River workers: %w", err)
		}
		g.Go(func() error { jobs.Observe(ctx, client, m); return nil })
		if ex.tickOnStart {
			if _, err := client.Insert(ctx, jobs.FaultyTickArgs{}, nil); err != nil {
				return fmt.Errorf("queue the first faulty.tick: %w", err)
			}
		}
		g.Go(func() error {
			<-ctx.Done()
			stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return client.Stop(stopCtx)
		})
	}

	var handler http.Handler
	if role.Serves() {
		ui, err := riverui.NewHandler(&riverui.HandlerOpts{
			Endpoints: riverui.NewEndpoints(client, nil),
			Logger:    log.With("component", "riverui"),
			Prefix:    "/admin/jobs",
		})
		if err != nil {
			return fmt.Errorf("River UI: %w", err)
		}
		if err := ui.Start(ctx); err != nil {
			return fmt.Errorf("River UI: %w", err)
		}
		handler = web.NewServer(web.Deps{
			App:      a,
			Logger:   log,
			Config:   cfg,
			Pool:     pool,
			River:    client,
			Sessions: web.NewSessions(pool, cfg.SecureCookies),
			Metrics:  m,
			Checks:   ex.checks,
			RiverUI:  ui,
			Mailbox:  ex.mailbox,
			Faulty:   web.FaultyDeps{Pipeline: webFaultyPipelineDeps(cfg)},
		})
	} else {
		handler = healthOnly(pool, m)
	}

	if cfg.MetricsAddr != "" {
		if err := serveMetrics(ctx, g, cfg.MetricsAddr, m, log); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on ADDR=%s: %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10 * time.Minute, // uploads up to MAX_UPLOAD_MB
		WriteTimeout:      10 * time.Minute, // streamed exports
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(stdout, "recondesk %s listening on http://%s\n", role, ln.Addr())
	log.Info("listening", "addr", ln.Addr().String(), "role", string(role))
	runServer(ctx, g, srv, ln)
	return g.Wait()
}

// serveMetrics serves Prometheus metrics, and nothing else, on their own
// listener (METRICS_ADDR), until ctx ends.
func serveMetrics(ctx context.Context, g *errgroup.Group, addr string, m *metrics.Metrics, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on METRICS_ADDR=%s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	log.Info("metrics listening", "addr", ln.Addr().String())
	runServer(ctx, g, srv, ln)
	return nil
}

// healthOnly is the HTTP surface of a worker-only process.
func healthOnly(pool *pgxpool.Pool, m *metrics.Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, `{"status":"ok"}`)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if err := pool.Ping(r.Context()); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, `{"ready":false}`)
			return
		}
		fmt.Fprintln(w, `{"ready":true}`)
	})
	return mux
}

// openSchema connects to DATABASE_URL and checks the schema is there, for
// the commands that work on an existing Recondesk database.
func openSchema(ctx context.Context, cfg config.Config) (*pgxpool.Pool, error) {
	pool, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := checkSchema(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// checkSchema refuses to start against a database that was never migrated.
func checkSchema(ctx context.Context, pool *pgxpool.Pool) error {
	ok, err := store.HasSchema(ctx, pool)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("the database has no Recondesk schema: run `recondesk migrate` first")
	}
	return nil
}

// runServer serves srv on ln in g and shuts it down, within 10 s, when ctx ends.
func runServer(ctx context.Context, g *errgroup.Group, srv *http.Server, ln net.Listener) {
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(shutCtx)
	})
}
