package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"recondesk/internal/config"
	"recondesk/internal/jobs"
	"recondesk/internal/metrics"
	"recondesk/internal/store"
)

// cmdFaultyTick evaluates every batch's timeline once (what the scheduled
// faulty.tick job does), enqueues the decided emails for the workers and
// prints the steps decided per batch as JSON.
func cmdFaultyTick(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("faulty tick", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	nowFlag := fs.String("now", "", "evaluate at this time (RFC 3339) instead of now")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return fmt.Errorf("usage: recondesk faulty tick [--now RFC3339]")
	}
	now := time.Now()
	if *nowFlag != "" {
		t, err := time.Parse(time.RFC3339, *nowFlag)
		if err != nil {
			return fmt.Errorf("--now %q is not an RFC 3339 time like 2026-02-16T09:00:00Z", *nowFlag)
		}
		now = t
	}
	pool, err := openSchema(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	ladder, err := jobs.FaultyLadderFromConfig(cfg)
	if err != nil {
		return err
	}
	m := metrics.New()
	client, err := jobs.NewClient(jobs.Deps{Pool: pool, Logger: log, Metrics: m, Faulty: jobs.FaultyDeps{Ladder: ladder}}, jobs.RoleWeb)
	if err != nil {
		return err
	}
	res, err := jobs.RunFaultyTick(ctx, jobs.TickRun{Pool: pool, Client: client, Ladder: ladder, Now: now,
		Actor: store.SystemActor(jobs.FaultyTickArgs{}.Kind()), Metrics: m, Logger: log})
	if err != nil {
		return fmt.Errorf("faulty tick: %w", err)
	}
	return printJSON(stdout, res)
}
