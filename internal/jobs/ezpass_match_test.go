package jobs_test

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"recondesk/internal/demo"
	"recondesk/internal/jobs"
	"recondesk/internal/metrics"
	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

// TestAssociateJobEnqueuesPostingWhenAutoPost runs the real workers: the
// association job matches demo tolls, enqueues posting in its transaction,
// and the posting job writes the ledger; the run is audited.
func TestAssociateJobEnqueuesPostingWhenAutoPost(t *testing.T) {
	t.Parallel()
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
	want := map[demo.Outcome]int{}
	for i, o := range []demo.Outcome{demo.MatchByTag, demo.MatchByTag, demo.MatchByPlate, demo.NoVehicle, demo.NoActiveLease} {
		p, ok := f.Probe(r, o)
		if !ok {
			t.Fatalf("no probe for %s", o)
		}
		want[o]++
		var tag, state, plate any
		if p.Tag != "" {
			tag = p.Tag
		} else {
			state, plate = p.PlateState, p.Plate
		}
		if _, err := db.Pool.Exec(ctx, `INSERT INTO ezpass_transactions (account, dedupe_key, row_hash, import_id, line, kind,
				tag_or_plate, tag, plate_state, plate, agency, exit_plaza, txn_at, amount_cents, raw)
			VALUES ('main', $1, 'h', $2, $3, 'toll', $4, $5, $6, $7, 'PANYNJ', 'GWB', $8, 1706, '{}')`,
			"k"+string(rune('a'+i)), imp, i+2, p.TagOrPlate(), tag, state, plate, p.At); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	client, err := jobs.NewClient(jobs.Deps{Pool: db.Pool, Logger: log, Metrics: metrics.New(), EZPass: jobs.EZPassDeps{AutoPost: true}}, jobs.RoleAll)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := client.Start(runCtx); err != nil {
		t.Fatal(err)
	}
	defer client.Stop(context.Background())
	if _, err := client.Insert(ctx, jobs.EZPassAssociateArgs{ImportID: imp, Trigger: "import"}, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	var posted, failed int
	for time.Now().Before(deadline) {
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'posted'), count(*) FILTER (WHERE status = 'association_failed')
			FROM ezpass_transactions`).Scan(&posted, &failed); err != nil {
			t.Fatal(err)
		}
		if posted == 3 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if posted != 3 || failed != 2 {
		t.Fatalf("posted %d, failed %d; want 3 and 2", posted, failed)
	}
	totals, err := store.Totals(ctx, db.Pool)
	if err != nil || totals.Drivers != 3*1706 || totals.Clearing != -3*1706 {
		t.Fatalf("totals = %+v, %v", totals, err)
	}
	evs, err := store.ListAudit(ctx, db.Pool, store.AuditFilter{Actor: "system:ezpass.associate", Action: "ezpass.associate"})
	if err != nil || len(evs) != 1 {
		t.Fatalf("association audit = %+v, %v", evs, err)
	}
	if evs[0].After == nil || !strings.Contains(string(evs[0].After), `"associated_by_tag": 2`) {
		t.Fatalf("audit after = %s", evs[0].After)
	}
}
