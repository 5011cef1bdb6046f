package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"recondesk/internal/config"
	"recondesk/internal/demo"
	"recondesk/internal/jobs"
	"recondesk/internal/metrics"
	"recondesk/internal/store"
)

// cmdEZPassAssociate runs association now and prints JSON counts.
func cmdEZPassAssociate(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return errors.New("usage: recondesk ezpass associate (no arguments)")
	}
	pool, err := openSchema(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	client, err := jobs.NewClient(jobs.Deps{Pool: pool, Logger: log, Metrics: metrics.New()}, jobs.RoleWeb)
	if err != nil {
		return err
	}
	counts, err := jobs.RunAssociation(ctx, jobs.AssociationRun{Pool: pool, TZ: cfg.EZPassTZ, AutoPost: cfg.EZPassAutoPost, Client: client,
		Actor: store.SystemActor(jobs.EZPassAssociateArgs{}.Kind()), Trigger: "cli"})
	if err != nil {
		return fmt.Errorf("ezpass associate: %w", err)
	}
	return printJSON(stdout, counts)
}

// cmdEZPassPost runs posting now and prints JSON counts.
func cmdEZPassPost(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return errors.New("usage: recondesk ezpass post (no arguments)")
	}
	pool, err := openSchema(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	counts, err := jobs.RunPosting(ctx, pool, store.SystemActor(jobs.EZPassPostArgs{}.Kind()), "cli", nil)
	if err != nil {
		return fmt.Errorf("ezpass post: %w", err)
	}
	return printJSON(stdout, counts)
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
