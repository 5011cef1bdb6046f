package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"recondesk/internal/chargecloud/chargecloudsim"
	"recondesk/internal/config"
	"recondesk/internal/devstack"
	"recondesk/internal/faulty"
	"recondesk/internal/pgtest"
)

// TestChargeCloudSimAndFaultyIngest runs `chargecloud-sim`, then `faulty ingest` against it and
// an embedded FerretDB seeded by seedFaulty; ingesting twice changes nothing.
func TestChargeCloudSimAndFaultyIngest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	mongoURI, stopMongo, err := devstack.StartFerretDB(ctx, devstack.FerretOptions{Dir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopMongo)

	// The simulator alone, as `recondesk chargecloud-sim` runs it.
	simCtx, stopSim := context.WithCancel(ctx)
	simOut := &syncBuffer{}
	simDone := make(chan error, 1)
	addr := freeAddr(t)
	go func() {
		simDone <- run(simCtx, []string{"chargecloud-sim", "--addr", addr, "--periods", "2026-10", "--bookings", "150", "--partners", "3"},
			func(k string) string { return map[string]string{"CHARGECLOUD_TOKEN": "t0ken"}[k] }, strings.NewReader(""), simOut, io.Discard)
	}()
	t.Cleanup(func() {
		stopSim()
		if err := <-simDone; err != nil {
			t.Errorf("chargecloud-sim: %v", err)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(simOut.String(), "CHARGECLOUD_TOKEN=t0ken") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(simOut.String(), "CHARGECLOUD_URL=http://"+addr) {
		t.Fatalf("chargecloud-sim printed %q", simOut.String())
	}

	// MongoDB holds the simulator's bookings (the same seed, partners and size as the sim above).
	env := map[string]string{"DATABASE_URL": db.URL, "MONGODB_URI": mongoURI, "CHARGECLOUD_URL": "http://" + addr, "CHARGECLOUD_TOKEN": "t0ken"}
	getenv := func(k string) string { return env[k] }
	if err := run(ctx, []string{"faulty", "ingest"}, getenv, strings.NewReader(""), io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "--period") {
		t.Errorf("ingest without --period = %v", err)
	}
	cfg, _ := config.Load(getenv)
	seedMongoLikeSim(t, ctx, cfg, db)

	ingest := func() map[string]any {
		t.Helper()
		out := &syncBuffer{}
		if err := run(ctx, []string{"faulty", "ingest", "--period", "2026-10"}, getenv, strings.NewReader(""), out, io.Discard); err != nil {
			t.Fatalf("faulty ingest: %v\n%s", err, out.String())
		}
		var res map[string]any
		if err := json.Unmarshal([]byte(out.String()), &res); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out.String())
		}
		return res
	}
	first := ingest()
	phases := first["phases"].([]any)
	if len(phases) != 3 {
		t.Fatalf("phases = %v", phases)
	}
	ing := phases[0].(map[string]any)["ingest"].(map[string]any)
	tr := phases[2].(map[string]any)["tracking"].(map[string]any)
	if ing["inserted"].(float64) < 140 || tr["items_created"].(float64) < 80 || tr["new_batches"].(float64) != 3 {
		t.Errorf("first ingest: ingest %v, tracking %v", ing, tr)
	}
	second := ingest()
	ing2 := second["phases"].([]any)[0].(map[string]any)["ingest"].(map[string]any)
	tr2 := second["phases"].([]any)[2].(map[string]any)["tracking"].(map[string]any)
	if ing2["inserted"].(float64) != 0 || tr2["items_created"].(float64) != 0 || tr2["master_files"].(float64) != 0 {
		t.Errorf("second ingest changed something: %v %v", ing2, tr2)
	}
}

// seedMongoLikeSim seeds partners and MongoDB with the data set of the simulator the test runs
// (same seed, partners, size and month), through the helper seedFaulty uses.
func seedMongoLikeSim(t *testing.T, ctx context.Context, cfg config.Config, db *pgtest.DB) {
	t.Helper()
	deps, stop, err := faultyPipelineDeps(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	sim := chargecloudsim.New(chargecloudsim.Options{Seed: 1, Partners: 3, BookingsPerPeriod: 150,
		Periods: []faulty.Period{{Year: 2026, Month: time.October}}})
	if added, _, err := seedSimData(ctx, db.Pool, deps.Bookings, sim.Dataset()); err != nil || added != 3 {
		t.Fatalf("seedSimData added %d partners: %v", added, err)
	}
}

// TestSeedFaultyIsIdempotent: the demo seed adds partners, bookings and a tracked month once.
func TestSeedFaultyIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	mongoURI, stopMongo, err := devstack.StartFerretDB(ctx, devstack.FerretOptions{Dir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopMongo)
	cfg, _ := config.Load(func(string) string { return "" })
	out := &syncBuffer{}
	env := seedEnv{cfg: cfg, log: slog.New(slog.DiscardHandler), pool: db.Pool, stdout: out, mongoURI: mongoURI}
	counts := func() [4]int {
		var c [4]int
		err := db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM partners), (SELECT count(*) FROM faulty_runs),
			(SELECT count(*) FROM faulty_items), (SELECT count(*) FROM audit_events)`).Scan(&c[0], &c[1], &c[2], &c[3])
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if err := seedFaulty(ctx, env); err != nil {
		t.Fatal(err)
	}
	first := counts()
	if first[0] != 6 || first[1] != 3 || first[2] < 500 {
		t.Fatalf("after the seed: partners, runs, items, audit = %v\n%s", first, out.String())
	}
	var unknown int
	_ = db.Pool.QueryRow(ctx, `SELECT count(*) FROM faulty_report_rows WHERE reason = 'UNKNOWN_PARTNER'`).Scan(&unknown)
	if unknown == 0 {
		t.Error("the demo leaves no Party ID unknown")
	}
	if err := seedFaulty(ctx, env); err != nil {
		t.Fatal(err)
	}
	if second := counts(); second != first {
		t.Errorf("the second seed added something: %v → %v", first, second)
	}
}
