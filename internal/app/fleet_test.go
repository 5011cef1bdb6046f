package app_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"

	"recondesk/internal/app"
	"recondesk/internal/store"
)

// TestLoadFleetCheckThenLoad: a check validates and writes nothing; the load
// writes, audits and queues association in one transaction; a file with a
// bad row writes nothing and reports the row.
func TestLoadFleetCheckThenLoad(t *testing.T) {
	t.Parallel()
	a, db := setup(t, app.EZPassImportDeps{})
	ctx := context.Background()
	medallions := app.FleetEntities[0]
	if medallions.Name != store.FleetMedallions {
		t.Fatalf("first entity %q", medallions.Name)
	}
	body := []byte("number\n1A23\n5B67\n")
	check, err := a.LoadFleet(ctx, app.User(1), app.FleetUpload{Entity: medallions, FileName: "m.csv", Body: body, CheckOnly: true})
	if err != nil || check.Refused() || check.Rows != 2 {
		t.Fatalf("check: %+v, %v", check, err)
	}
	if n := count(t, db, `SELECT count(*) FROM medallions`); n != 0 {
		t.Errorf("the check wrote %d medallions", n)
	}
	rivertest.RequireNotInserted(ctx, t, riverpgxv5.New(db.Pool), &app.EZPassAssociateArgs{}, nil)

	load, err := a.LoadFleet(ctx, app.User(1), app.FleetUpload{Entity: medallions, FileName: "m.csv", Body: body})
	if err != nil || load.Refused() || !reflect.DeepEqual(load.Counts, check.Counts) || !load.Counts.Changed() {
		t.Fatalf("load: %+v, %v; want the check's counts %+v", load, err, check.Counts)
	}
	if n := count(t, db, `SELECT count(*) FROM medallions`); n != 2 {
		t.Errorf("%d medallions after the load; want 2", n)
	}
	if n := count(t, db, `SELECT count(*) FROM audit_events WHERE action = 'fleet.upload' AND actor = 'user:1' AND subject_id = 'medallions'`); n != 1 {
		t.Errorf("%d audit events; want 1", n)
	}
	job := rivertest.RequireInserted(ctx, t, riverpgxv5.New(db.Pool), &app.EZPassAssociateArgs{}, nil)
	if job.Args.Trigger != "fleet medallions" {
		t.Errorf("association trigger %q", job.Args.Trigger)
	}

	bad, err := a.LoadFleet(ctx, app.User(1), app.FleetUpload{Entity: app.FleetEntities[1], FileName: "v.csv", Body: []byte("vin\nNOT-A-VIN\n")})
	if err != nil || len(bad.Errors) != 1 || bad.Errors[0].Column != "vin" {
		t.Errorf("bad file: %+v, %v; want one row error on vin", bad, err)
	}
	if n := count(t, db, `SELECT count(*) FROM vehicles`); n != 0 {
		t.Errorf("a refused file wrote %d vehicles", n)
	}
}
