package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"recondesk/internal/app"
	"recondesk/internal/config"
	"recondesk/internal/demo"
	"recondesk/internal/jobs"
	"recondesk/internal/metrics"
	"recondesk/internal/store"
)

const ezpassImportUsage = "usage: recondesk ezpass import FILE [--account A]"

// importSummary is what `ezpass import` prints: the import as the API
// shows it, and what association then did.
type importSummary struct {
	Import      store.EZPassImportSummary `json:"import"`
	Association *store.AssociationCounts  `json:"association,omitempty"`
}

// cmdEZPassImport imports a file synchronously (the import job's code path,
// run inline), then runs association, and prints a JSON summary.
func cmdEZPassImport(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ezpass import", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	account := fs.String("account", cfg.EZPassAccount, "E-ZPass account of the file")
	// FILE may come before or after the flags.
	var files []string
	for rest := args; len(rest) > 0; {
		if err := fs.Parse(rest); err != nil {
			return fmt.Errorf("%w\n%s", err, ezpassImportUsage)
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 {
		return errors.New(ezpassImportUsage)
	}
	f, err := os.Open(files[0])
	if err != nil {
		return fmt.Errorf("ezpass import: %w", err)
	}
	defer f.Close()
	pool, err := openSchema(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	imp, err := importOne(ctx, pool, cfg, log, f, filepath.Base(files[0]), *account, app.System("cli"))
	if err != nil {
		return fmt.Errorf("ezpass import: %w", err)
	}
	out := importSummary{}
	if imp.Inserted > 0 {
		counts, err := associateNow(ctx, pool, cfg, log, "cli")
		if err != nil {
			return fmt.Errorf("ezpass import: the file was imported (import #%d) but association failed: %w", imp.ID, err)
		}
		out.Association = &counts
	}
	out.Import = imp.Summary()
	if outcomes, err := store.EZPassImportOutcomesOf(ctx, pool, imp); err == nil {
		out.Import.Outcomes = &outcomes
	}
	if err := printJSON(stdout, out); err != nil {
		return err
	}
	if imp.Status == store.ImportFailed {
		return fmt.Errorf("ezpass import #%d failed: %s", imp.ID, imp.Message)
	}
	return nil
}

// importOne imports a file synchronously through the ImportFile use case:
// the same StartImport (audit, queued job) as an upload, then the job's
// RunImport inline.
func importOne(ctx context.Context, pool *pgxpool.Pool, cfg config.Config, log *slog.Logger, r io.ReadSeeker, name, account string, actor app.Actor) (store.EZPassImport, error) {
	a := app.New(app.Deps{Pool: pool, Logger: log, Config: cfg})
	if _, err := jobs.NewClient(jobs.Deps{App: a, Pool: pool, Logger: log}, jobs.RoleWeb); err != nil {
		return store.EZPassImport{}, err
	}
	return a.ImportFile(ctx, actor, r, name, account)
}

// associateNow runs association (and posting, per EZPASS_AUTO_POST) as
// `ezpass associate` does.
func associateNow(ctx context.Context, pool *pgxpool.Pool, cfg config.Config, log *slog.Logger, trigger string) (store.AssociationCounts, error) {
	client, err := jobs.NewClient(jobs.Deps{Pool: pool, Logger: log, Metrics: metrics.New()}, jobs.RoleWeb)
	if err != nil {
		return store.AssociationCounts{}, err
	}
	return jobs.RunAssociation(ctx, jobs.AssociationRun{Pool: pool, TZ: cfg.EZPassTZ, AutoPost: cfg.EZPassAutoPost, Client: client,
		Actor: store.SystemActor(jobs.EZPassAssociateArgs{}.Kind()), Trigger: trigger})
}

// seedEZPassFiles imports the demo E-ZPass sample files (generated from the
// demo fleet) in order; a file imported before (same SHA-256) is skipped, so
// seeding twice adds nothing. Association runs once at the end.
func seedEZPassFiles(ctx context.Context, env seedEnv) error {
	samples, err := demo.EZPassSamples(demo.Generate(demoFleetOptions(env.cfg)))
	if err != nil {
		return err
	}
	inserted := 0
	for _, s := range samples {
		sum := sha256.Sum256(s.Data)
		if prev, err := store.EZPassImportBySHA(ctx, env.pool, hex.EncodeToString(sum[:])); err == nil && prev.Status != store.ImportFailed {
			fmt.Fprintf(env.stdout, "E-ZPass sample %s: already imported (import #%d)\n", s.Name, prev.ID)
			continue
		}
		imp, err := importOne(ctx, env.pool, env.cfg, env.log, bytes.NewReader(s.Data), s.Name, env.cfg.EZPassAccount, app.System("seed"))
		var dup *store.DuplicateImportError
		if errors.As(err, &dup) { // seeded concurrently
			continue
		}
		if err != nil {
			return fmt.Errorf("E-ZPass sample %s: %w", s.Name, err)
		}
		inserted += imp.Inserted
		fmt.Fprintf(env.stdout, "E-ZPass sample %s: import #%d %s (%d rows, %d new, %d duplicates, %d conflicts)\n",
			s.Name, imp.ID, imp.Status, imp.RowsRead, imp.Inserted, imp.Duplicates, imp.Conflicts)
	}
	if inserted > 0 {
		counts, err := associateNow(ctx, env.pool, env.cfg, env.log, "seed")
		if err != nil {
			return fmt.Errorf("associate the E-ZPass samples: %w", err)
		}
		failed := 0
		for _, n := range counts.Failed {
			failed += n
		}
		fmt.Fprintf(env.stdout, "E-ZPass samples associated: %d by tag, %d by plate, %d failed (%s)\n",
			counts.ByTag, counts.ByPlate, failed, strings.TrimSpace(fmt.Sprint(counts.Failed)))
	}
	return nil
}
