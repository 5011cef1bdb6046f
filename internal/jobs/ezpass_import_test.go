package jobs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"recondesk/internal/demo"
	"recondesk/internal/jobs"
	"recondesk/internal/metrics"
	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

// queueImport records a demo sample as an upload and enqueues its job in
// the same transaction, as the upload handler does.
func queueImport(t *testing.T, db *pgtest.DB, client *river.Client[pgx.Tx], data []byte) store.EZPassImport {
	t.Helper()
	ctx := context.Background()
	sum := sha256.Sum256(data)
	var imp store.EZPassImport
	err := store.InTx(ctx, db.Pool, func(tx pgx.Tx) error {
		var err error
		imp, err = store.CreateEZPassImport(ctx, tx, store.NewEZPassImport{Account: "main", FileName: "a.csv", CreatedBy: "user:1",
			TimeZone: "America/New_York", SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data)), File: bytes.NewReader(data)})
		if err != nil {
			return err
		}
		_, err = client.InsertTx(ctx, tx, jobs.EZPassImportArgs{ImportID: imp.ID}, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return imp
}

func TestEZPassImportWorkerLoadsThenAsksForAssociation(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	samples, err := demo.EZPassSamples(demo.Generate(demo.Options{Seed: 5, Vehicles: 30}))
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	client, err := jobs.NewClient(jobs.Deps{Pool: db.Pool, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Metrics: m}, jobs.RoleAll)
	if err != nil {
		t.Fatal(err)
	}
	imp := queueImport(t, db, client, samples[0].Data)
	done, cancelSub := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancelSub()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := client.Start(runCtx); err != nil {
		t.Fatal(err)
	}
	defer client.Stop(context.Background())
	timeout := time.After(30 * time.Second)
	for finished := false; !finished; {
		select {
		case ev := <-done:
			if ev.Job.Kind == "ezpass.import" {
				if ev.Kind != river.EventKindJobCompleted {
					t.Fatalf("import job %s: %v", ev.Kind, ev.Job.Errors)
				}
				finished = true
			}
		case <-timeout:
			t.Fatal("the import job did not finish")
		}
	}
	got, err := store.EZPassImportByID(ctx, db.Pool, imp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.ImportSucceeded || got.Inserted != len(samples[0].Rows) || got.StartedAt == nil || got.FinishedAt == nil {
		t.Errorf("import %+v", got)
	}
	var assoc int
	_ = db.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'ezpass.associate' AND (args->>'import_id')::bigint = $1`, imp.ID).Scan(&assoc)
	if assoc != 1 {
		t.Errorf("%d association jobs for the import; want 1", assoc)
	}
	if n := counter(m, "ezpass.import", "succeeded"); n != 1 {
		t.Errorf("imports metric %v; want 1", n)
	}
	if n := counter(m, "ezpass.import.rows", "inserted"); int(n) != got.Inserted {
		t.Errorf("inserted rows metric %v; want %d", n, got.Inserted)
	}
}

// TestEZPassImportWorkerGivesUp: when the last attempt fails, the import
// is marked failed (audited) instead of showing "running" for ever.
func TestEZPassImportWorkerGivesUp(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	client, err := jobs.NewClient(jobs.Deps{Pool: db.Pool, Logger: slog.New(slog.DiscardHandler), Metrics: metrics.New()}, jobs.RoleWeb)
	if err != nil {
		t.Fatal(err)
	}
	imp := queueImport(t, db, client, []byte("Lane Txn ID,Tag/Plate #,Agency,Entry Plaza,Exit Plaza,Class,Date,Exit Time,Amount\n"))
	w := &jobs.EZPassImportWorker{Pool: db.Pool}
	dead, cancel := context.WithCancel(context.Background())
	cancel() // every database call fails
	job := &river.Job[jobs.EZPassImportArgs]{JobRow: &rivertype.JobRow{ID: 1, Attempt: 3, MaxAttempts: 3}, Args: jobs.EZPassImportArgs{ImportID: imp.ID}}
	if err := w.Work(dead, job); err == nil {
		t.Fatal("Work succeeded with a cancelled context")
	}
	got, _ := store.EZPassImportByID(context.Background(), db.Pool, imp.ID)
	if got.Status != store.ImportFailed || got.Message == "" || got.FinishedAt == nil {
		t.Errorf("import after giving up: %s %q", got.Status, got.Message)
	}
	// An import that does not exist cancels the job rather than retrying it.
	job.Args.ImportID = 424242
	var cancelErr *river.JobCancelError
	if err := w.Work(context.Background(), job); err == nil || !errors.As(err, &cancelErr) {
		t.Errorf("missing import: %v; want a JobCancel error", err)
	}
}

// counter reads one domain event counter from the registry.
func counter(m *metrics.Metrics, event, outcome string) float64 {
	families, err := m.Registry.Gather()
	if err != nil {
		return -1
	}
	for _, f := range families {
		if f.GetName() != "recondesk_events_total" {
			continue
		}
		for _, c := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range c.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["event"] == event && labels["outcome"] == outcome {
				return c.GetCounter().GetValue()
			}
		}
	}
	return 0
}
