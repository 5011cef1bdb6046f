package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"recondesk/internal/app"
	"recondesk/internal/config"
	"recondesk/internal/jobs"
	"recondesk/internal/metrics"
)

// faultyCLIApp opens the database and returns the application layer with a River client
// that only inserts (the workers of `serve` send the emails).
func faultyCLIApp(ctx context.Context, cfg config.Config, log *slog.Logger) (*app.App, *pgxpool.Pool, error) {
	pool, err := openSchema(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	fd, err := app.FaultyDepsFromConfig(cfg)
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	a := app.New(app.Deps{Pool: pool, Logger: log, Metrics: metrics.New(), Config: cfg, Faulty: fd})
	if _, err := jobs.NewClient(jobs.Deps{App: a, Pool: pool, Logger: log, Metrics: a.Metrics}, jobs.RoleWeb); err != nil {
		pool.Close()
		return nil, nil, err
	}
	return a, pool, nil
}

// cmdFaultyTick evaluates every batch's timeline once (what the scheduled
// faulty.tick job does), queues the decided emails for the workers and
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
	a, pool, err := faultyCLIApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer pool.Close()
	res, err := a.Tick(ctx, app.TickInput{Now: now, Actor: app.System(jobs.FaultyTickArgs{}.Kind())})
	if err != nil {
		return fmt.Errorf("faulty tick: %w", err)
	}
	return printJSON(stdout, res)
}

// cliActor is who a batch command acts as: --user N, else the CLI itself.
func cliActor(user int64) app.Actor {
	if user > 0 {
		return app.User(user)
	}
	return app.System("cli")
}

// cmdFaultyEscalate re-escalates a batch with a note (what the batch page and the API do) and
// prints the queued email as JSON.
func cmdFaultyEscalate(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	const usage = "usage: recondesk faulty escalate --batch ID --note TEXT [--user N]"
	fs := flag.NewFlagSet("faulty escalate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	batch := fs.String("batch", "", "the batch id")
	note := fs.String("note", "", "why you escalate (goes into the email)")
	user := fs.Int64("user", 0, "act as this user id (audit)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || *batch == "" {
		return errors.New(usage)
	}
	a, pool, err := faultyCLIApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer pool.Close()
	e, err := a.Reescalate(ctx, cliActor(*user), strings.ToLower(*batch), *note, time.Time{})
	if err != nil {
		return err
	}
	return printJSON(stdout, map[string]any{"email": e})
}

// cmdFaultyResolve resolves items of a batch (--items 1,2; none means every open item) with a
// note and prints what was resolved as JSON.
func cmdFaultyResolve(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	const usage = "usage: recondesk faulty resolve --batch ID [--items 1,2,3] --note TEXT [--user N]"
	fs := flag.NewFlagSet("faulty resolve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	batch := fs.String("batch", "", "the batch id")
	items := fs.String("items", "", "comma-separated item ids; empty resolves the whole batch")
	note := fs.String("note", "", "why the bookings are resolved")
	user := fs.Int64("user", 0, "act as this user id (audit)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || *batch == "" {
		return errors.New(usage)
	}
	var ids []int64
	for _, v := range strings.Split(*items, ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("--items: %q is not an item id", v)
		}
		ids = append(ids, n)
	}
	a, pool, err := faultyCLIApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer pool.Close()
	var res app.Resolved
	if len(ids) == 0 {
		res, err = a.ResolveBatch(ctx, cliActor(*user), strings.ToLower(*batch), *note)
	} else {
		res, err = a.ResolveItems(ctx, cliActor(*user), strings.ToLower(*batch), ids, *note)
	}
	if err != nil {
		return err
	}
	return printJSON(stdout, res)
}
