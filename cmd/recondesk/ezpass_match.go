package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"recondesk/internal/app"
	"recondesk/internal/config"
	"recondesk/internal/demo"
	"recondesk/internal/jobs"
	"recondesk/internal/metrics"
)

// cmdEZPassAssociate runs association now (the use case the job runs) and
// prints JSON counts; with auto-posting it queues posting for the workers.
func cmdEZPassAssociate(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return errors.New("usage: recondesk ezpass associate (no arguments)")
	}
	a, done, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer done()
	counts, err := a.Associate(ctx, app.System(app.EZPassAssociateArgs{}.Kind()), "cli")
	if err != nil {
		return fmt.Errorf("ezpass associate: %w", err)
	}
	return printJSON(stdout, counts)
}

// cmdEZPassPost runs posting now (the use case the job runs) and prints JSON counts.
func cmdEZPassPost(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return errors.New("usage: recondesk ezpass post (no arguments)")
	}
	a, done, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer done()
	counts, err := a.Post(ctx, app.System(app.EZPassPostArgs{}.Kind()), "cli")
	if err != nil {
		return fmt.Errorf("ezpass post: %w", err)
	}
	return printJSON(stdout, counts)
}

// openApp opens the existing database and returns the application layer
// with an insert-only River client (follow-up jobs are queued for the workers).
func openApp(ctx context.Context, cfg config.Config, log *slog.Logger) (*app.App, func(), error) {
	pool, err := openSchema(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	a := app.New(app.Deps{Pool: pool, Logger: log, Metrics: metrics.New(), Config: cfg})
	if _, err := jobs.NewClient(jobs.Deps{App: a, Pool: pool, Logger: log, Metrics: a.Metrics}, jobs.RoleWeb); err != nil {
		pool.Close()
		return nil, nil, err
	}
	return a, pool.Close, nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// demoFleetOptions is the demo fleet of `seed demo` and `dev`.
func demoFleetOptions(cfg config.Config) demo.Options {
	return demo.RelativeTo(time.Now(), cfg.EZPassTZ)
}

// seedFleet loads the demo fleet (medallions, vehicles, plates, tags, drivers, leases).
func seedFleet(ctx context.Context, env seedEnv) error {
	f := demo.Generate(demoFleetOptions(env.cfg))
	counts, err := demo.Load(ctx, env.pool, f)
	if err != nil {
		return fmt.Errorf("demo fleet: %w", err)
	}
	if counts.Changed() {
		fmt.Fprintf(env.stdout, "demo fleet: %d vehicles, %d leases, %d drivers\n", len(f.Vehicles), len(f.Leases), len(f.Drivers))
	}
	return nil
}
