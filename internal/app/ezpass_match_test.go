package app_test

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"

	"recondesk/internal/app"
	"recondesk/internal/demo"
	"recondesk/internal/jobs"
	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

type matchBundle struct {
	db  *pgtest.DB
	app *app.App
}

// setupMatch returns an application layer with an insert-only River client
// over a fresh database holding a small demo fleet and tolls: three that
// match (two by tag, one by plate) and two that fail.
func setupMatch(t *testing.T, autoPost bool) *matchBundle {
	t.Helper()
	db := pgtest.New(t)
	ctx := context.Background()
	f := demo.Generate(demo.Options{Seed: 3, Vehicles: 20})
	if _, err := demo.Load(ctx, db.Pool, f); err != nil {
		t.Fatal(err)
	}
	var imp int64
	if err := db.Pool.QueryRow(ctx, `INSERT INTO ezpass_imports (account, file_name, size_bytes, sha256, created_by)
		VALUES ('main', 'x.csv', 1, 'x', 'test') RETURNING id`).Scan(&imp); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i, o := range []demo.Outcome{demo.MatchByTag, demo.MatchByTag, demo.MatchByPlate, demo.NoVehicle, demo.NoActiveLease} {
		p, ok := f.Probe(r, o)
		if !ok {
			t.Fatalf("no probe for %s", o)
		}
		var tag, state, plate any
		if p.Tag != "" {
			tag = p.Tag
		} else {
			state, plate = p.PlateState, p.Plate
		}
		if _, err := db.Pool.Exec(ctx, `INSERT INTO ezpass_transactions (account, dedupe_key, row_hash, import_id, line, kind,
				tag_or_plate, tag, plate_state, plate, agency, exit_plaza, txn_at, amount_cents, raw)
			VALUES ('main', $1, 'h', $2, $3, 'toll', $4, $5, $6, $7, 'PANYNJ', 'GWB', $8, $9, '{}')`,
			"k"+string(rune('a'+i)), imp, i+2, p.TagOrPlate(), tag, state, plate, p.At, 1000+i); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	a := app.New(app.Deps{Pool: db.Pool, Logger: log, EZPass: app.EZPassDeps{Match: app.EZPassMatchDeps{AutoPost: autoPost}}})
	if _, err := jobs.NewClient(jobs.Deps{App: a, Pool: db.Pool, Logger: log}, jobs.RoleWeb); err != nil {
		t.Fatal(err)
	}
	return &matchBundle{db: db, app: a}
}

func TestAssociateAuditsAndQueuesPostingInItsTransaction(t *testing.T) {
	t.Parallel()
	b := setupMatch(t, true)
	ctx := context.Background()
	c, err := b.app.Associate(ctx, app.User(7), "on demand")
	if err != nil {
		t.Fatal(err)
	}
	if c.ByTag != 2 || c.ByPlate != 1 || c.Failed[store.FailNoVehicle] != 1 || c.Failed[store.FailNoActiveLease] != 1 {
		t.Fatalf("counts = %+v", c)
	}
	rivertest.RequireInserted(ctx, t, riverpgxv5.New(b.db.Pool), app.EZPassPostArgs{Trigger: "association", RequestedBy: 7}, nil)
	evs, err := store.ListAudit(ctx, b.db.Pool, store.AuditFilter{Action: "ezpass.associate"})
	if err != nil || len(evs) != 1 || evs[0].Actor != "user:7" || !strings.Contains(string(evs[0].After), `"associated_by_tag": 2`) {
		t.Fatalf("audit = %+v, %v", evs, err)
	}
}

func TestAssignQueuesPostingOnlyWithAutoPost(t *testing.T) {
	t.Parallel()
	for _, autoPost := range []bool{true, false} {
		b := setupMatch(t, autoPost)
		ctx := context.Background()
		if _, err := b.app.Associate(ctx, app.System("test"), "test"); err != nil {
			t.Fatal(err)
		}
		var toll, lease int64
		if err := b.db.Pool.QueryRow(ctx, `SELECT t.id, l.id FROM ezpass_transactions t
			JOIN leases l ON l.valid @> t.txn_at AND l.active JOIN lease_drivers ld ON ld.lease_id = l.id
			WHERE t.status = 'association_failed' AND t.failure_code = 'NO_ACTIVE_LEASE' LIMIT 1`).Scan(&toll, &lease); err != nil {
			t.Fatal(err)
		}
		res, err := b.app.Assign(ctx, app.User(3), app.AssignInput{TxnIDs: []int64{toll}, LeaseID: lease, Reason: "known car"})
		if err != nil || res.Assigned != 1 || res.ToPost != 1 {
			t.Fatalf("assign = %+v, %v", res, err)
		}
		drv := riverpgxv5.New(b.db.Pool)
		want := app.EZPassPostArgs{Trigger: "manual assignment", RequestedBy: 3}
		if autoPost {
			// The association's posting job, then the assignment's.
			rivertest.RequireManyInserted(ctx, t, drv, []rivertest.ExpectedJob{
				{Args: app.EZPassPostArgs{Trigger: "association"}}, {Args: want}})
		} else {
			rivertest.RequireNotInserted(ctx, t, drv, want, nil)
		}
		evs, err := store.ListAudit(ctx, b.db.Pool, store.AuditFilter{Action: "ezpass.assign"})
		if err != nil || len(evs) != 1 || evs[0].Reason != "known car" || evs[0].Actor != "user:3" {
			t.Fatalf("assign audit = %+v, %v", evs, err)
		}
		// Re-associate refuses a toll that is not associated.
		if _, err := b.app.Reassociate(ctx, app.User(3), app.AssignInput{TxnIDs: []int64{toll + 100000}, LeaseID: lease, Reason: "x"}); err == nil {
			t.Fatal("re-associating a missing toll succeeded")
		}
	}
}

// TestPostFailingPartWayLeavesEveryPostingAudited makes the third chunk of
// a run fail: the two committed chunks each have their audit event.
func TestPostFailingPartWayLeavesEveryPostingAudited(t *testing.T) {
	t.Parallel()
	b := setupMatch(t, false)
	ctx := context.Background()
	if _, err := b.app.Associate(ctx, app.System("test"), "test"); err != nil {
		t.Fatal(err)
	}
	var third int64
	if err := b.db.Pool.QueryRow(ctx, `SELECT id FROM ezpass_transactions WHERE status = 'associated' ORDER BY id OFFSET 2 LIMIT 1`).Scan(&third); err != nil {
		t.Fatal(err)
	}
	if _, err := b.db.Pool.Exec(ctx, `
		CREATE FUNCTION test_fail_post() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'disk full'; END $$;
		CREATE TRIGGER test_fail_post BEFORE UPDATE OF status ON ezpass_transactions
			FOR EACH ROW WHEN (NEW.status = 'posted' AND NEW.id = `+itoa(third)+`) EXECUTE FUNCTION test_fail_post()`); err != nil {
		t.Fatal(err)
	}
	b.app.EZPass.Match.PostChunk = 1
	c, err := b.app.Post(ctx, app.User(5), "on demand")
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("post err = %v", err)
	}
	if c.Posted != 2 || c.Chunks != 2 {
		t.Fatalf("counts before the failure = %+v", c)
	}
	var posted, journals int
	b.db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM ezpass_transactions WHERE status = 'posted'), (SELECT count(*) FROM ledger_journals)`).Scan(&posted, &journals)
	evs, err := store.ListAudit(ctx, b.db.Pool, store.AuditFilter{Action: "ezpass.post"})
	if err != nil || posted != 2 || journals != 2 || len(evs) != 2 {
		t.Fatalf("posted %d, journals %d, audit events %d (%v); want 2, 2, 2", posted, journals, len(evs), err)
	}
	for _, ev := range evs {
		if ev.Actor != "user:5" || !strings.Contains(string(ev.After), `"posted": 1`) {
			t.Fatalf("chunk audit = %s %s", ev.Actor, ev.After)
		}
	}
}

func TestRequestAssociateQueuesOneJobUnderConcurrency(t *testing.T) {
	t.Parallel()
	b := setupMatch(t, false)
	ctx := context.Background()
	var wg sync.WaitGroup
	reqs := make([]app.JobRequest, 30)
	errs := make([]error, 30)
	for i := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reqs[i], errs[i] = b.app.RequestAssociate(ctx, app.User(int64(i+1)), "on demand")
		}()
	}
	wg.Wait()
	fresh := 0
	for i, r := range reqs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if r.JobID != reqs[0].JobID {
			t.Fatalf("request %d got job %d, request 0 job %d", i, r.JobID, reqs[0].JobID)
		}
		if !r.AlreadyQueued {
			fresh++
		}
	}
	if fresh != 1 {
		t.Fatalf("%d requests queued a job; want 1", fresh)
	}
	var n int
	b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'ezpass.associate'`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d association jobs; want 1", n)
	}
	// Posting is a kind of its own: one request queues one.
	p, err := b.app.RequestPost(ctx, app.User(1), "on demand")
	if err != nil || p.AlreadyQueued || p.JobID == reqs[0].JobID {
		t.Fatalf("post request = %+v, %v", p, err)
	}
	runs, err := b.app.MatchRuns(ctx)
	if err != nil || !runs.Associate.Active || runs.Associate.JobID != reqs[0].JobID || !runs.Post.Active {
		t.Fatalf("runs = %+v, %v", runs, err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestAssociateRefreshesStatisticsAfterBulkChanges: with autovacuum off,
// posting right after association would plan on statistics that say every
// toll is imported; association analyzes the tolls when many rows changed.
func TestAssociateRefreshesStatisticsAfterBulkChanges(t *testing.T) {
	t.Parallel()
	b := setupMatch(t, false)
	ctx := context.Background()
	if _, err := b.db.Pool.Exec(ctx, `ANALYZE ezpass_transactions`); err != nil {
		t.Fatal(err)
	}
	statuses := func() string {
		var s string
		b.db.Pool.QueryRow(ctx, `SELECT coalesce(most_common_vals::text, '') FROM pg_stats
			WHERE tablename = 'ezpass_transactions' AND attname = 'status'`).Scan(&s)
		return s
	}
	if s := statuses(); strings.Contains(s, "associated") {
		t.Fatalf("statistics before association: %s", s)
	}
	b.app.EZPass.Match.AnalyzeAfter = 3
	if _, err := b.app.Associate(ctx, app.System("test"), "test"); err != nil {
		t.Fatal(err)
	}
	if s := statuses(); !strings.Contains(s, "associated") {
		t.Fatalf("statistics after associating 5 tolls (threshold 3): %q; want the new statuses", s)
	}
}
