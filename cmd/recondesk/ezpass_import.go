package main

import (
	"bufio"
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
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

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
	actor := store.SystemActor("cli")
	imp, err := importOne(ctx, pool, cfg, f, filepath.Base(files[0]), *account, actor)
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

// importOne records a file as an import (keeping the original), and loads
// it inline with the import job's code path.
func importOne(ctx context.Context, pool *pgxpool.Pool, cfg config.Config, r io.ReadSeeker, name, account, actor string) (store.EZPassImport, error) {
	h := sha256.New()
	size, err := io.Copy(h, r)
	if err != nil {
		return store.EZPassImport{}, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return store.EZPassImport{}, err
	}
	var imp store.EZPassImport
	err = store.InTx(ctx, pool, func(tx pgx.Tx) error {
		imp, err = store.CreateEZPassImport(ctx, tx, store.NewEZPassImport{Account: account, FileName: name, CreatedBy: actor,
			TimeZone: cfg.EZPassTZ.String(), SHA256: hex.EncodeToString(h.Sum(nil)), Size: size, File: bufio.NewReader(r)})
		if err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor, "ezpass.import.upload", "ezpass_import", strconv.FormatInt(imp.ID, 10), nil,
			map[string]any{"file_name": imp.FileName, "size_bytes": imp.SizeBytes, "sha256": imp.SHA256, "account": imp.Account},
			"file imported from the command line")
	})
	if err != nil {
		return imp, err
	}
	return store.RunEZPassImport(ctx, pool, imp.ID, store.ImportOptions{})
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
		if prev, err := store.EZPassImportBySHA(ctx, env.pool, hex.EncodeToString(sum[:])); err == nil {
			fmt.Fprintf(env.stdout, "E-ZPass sample %s: already imported (import #%d)\n", s.Name, prev.ID)
			continue
		}
		imp, err := importOne(ctx, env.pool, env.cfg, bytes.NewReader(s.Data), s.Name, env.cfg.EZPassAccount, store.SystemActor("seed"))
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
