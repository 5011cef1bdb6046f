package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"recondesk/internal/apperror"
	"recondesk/internal/auth"
	"recondesk/internal/config"
	"recondesk/internal/jobs"
	"recondesk/internal/store"
)

type pgxTx = pgx.Tx

// cmdDev migrates, starts the embedded defaults, loads the demo data and
// serves everything in one process: what `make run` uses.
func cmdDev(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := store.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	pool, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := store.Migrate(ctx, pool); err != nil {
		return err
	}
	ex := extras{}
	inboxDemo, err := startInboxDev(&cfg, log, stdout)
	if err != nil {
		return err
	}
	defer inboxDemo.close()
	if cfg.SMTPURL == "" {
		sink, err := startSMTPSink(ctx, log, pool, inboxDemo.onSent())
		if err != nil {
			return err
		}
		defer sink.Close()
		cfg.SMTPURL = sink.URL()
		ex.mailbox = true
		fmt.Fprintf(stdout, "embedded SMTP sink at %s (Admin → Mailbox)\n", cfg.SMTPURL)
	}
	stopFaulty, err := startFaultyDev(ctx, &cfg, log, stdout)
	if err != nil {
		return err
	}
	defer stopFaulty()
	if err := seedDemo(ctx, seedEnv{cfg: cfg, log: log, pool: pool, stdout: stdout, mongoURI: cfg.MongoURI, inbox: inboxDemo.deliverAt()}); err != nil {
		return fmt.Errorf("load demo data: %w", err)
	}
	if err := inboxDemo.seedReplies(ctx, cfg, pool); err != nil {
		return fmt.Errorf("partner replies demo: %w", err)
	}
	ex.checks = dependencyChecks(cfg)
	ex.tickOnStart = true
	fmt.Fprintf(stdout, "Recondesk dev: open %s and sign in as %s / %s\n", cfg.BaseURL, cfg.DemoAdminEmail, cfg.DemoAdminPassword)
	return serve(ctx, cfg, log, pool, jobs.RoleAll, ex, stdout)
}

// ensureDemoAdmin creates the demo admin once; an existing one is kept.
func ensureDemoAdmin(ctx context.Context, cfg config.Config, pool *pgxpool.Pool) error {
	if _, err := store.UserByEmail(ctx, pool, cfg.DemoAdminEmail); err == nil {
		return nil
	}
	hash, err := auth.HashPassword(cfg.DemoAdminPassword, auth.DefaultParams)
	if err != nil {
		return err
	}
	return store.InTx(ctx, pool, func(tx pgx.Tx) error {
		u, err := store.CreateUser(ctx, tx, cfg.DemoAdminEmail, auth.Admin, hash)
		if err != nil {
			if apperror.CodeOf(err) == apperror.Conflict { // created concurrently
				return nil
			}
			return err
		}
		return store.Audit(ctx, tx, "system:dev", "user.create", "user", fmt.Sprint(u.ID), nil,
			map[string]any{"email": u.Email, "role": u.Role}, "demo admin")
	})
}

// cmdSeed handles `seed demo`.
func cmdSeed(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "demo" {
		return errors.New("usage: recondesk seed demo")
	}
	pool, err := openSchema(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	return seedDemo(ctx, seedEnv{cfg: cfg, log: log, pool: pool, stdout: stdout, mongoURI: cfg.MongoURI})
}

// seedEnv is what the demo loaders get.
type seedEnv struct {
	cfg    config.Config
	log    *slog.Logger
	pool   *pgxpool.Pool
	stdout io.Writer
	// mongoURI is the MongoDB the faulty-bookings demo seeds ("" when none).
	mongoURI string
	// now is the demo's "today" (zero means the wall clock): the months, phases and ladder
	// steps are simulated relative to it.
	now time.Time
	// inbox delivers a partner's mail into the embedded finance mailbox at a time (dev only;
	// nil when IMAP_URL is a real mailbox or none).
	inbox func(raw []byte, at time.Time) error
}

// seedDemo loads the demo data set idempotently: fleet, E-ZPass sample
// files, partners and the last two months of faulty bookings with their email
// threads (seedFaultyDemo).
func seedDemo(ctx context.Context, env seedEnv) error {
	if err := ensureDemoAdmin(ctx, env.cfg, env.pool); err != nil {
		return err
	}
	for _, step := range []func(context.Context, seedEnv) error{seedFleet, seedEZPassFiles, seedFaultyDemo} {
		if err := step(ctx, env); err != nil {
			return err
		}
	}
	fmt.Fprintln(env.stdout, "demo data loaded")
	return nil
}
