package jobs

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/xuri/excelize/v2"

	"recondesk/internal/masterfile"
	"recondesk/internal/store"
)

// TestMasterFileTrackingSheet runs a real period (ingestion, validation against the embedded
// MongoDB, tracking) and the notification, and opens the master file versions: v1 (tracking)
// lists each booking's history; v2, attached to the notification, lists that email itself;
// a later version shows a manual resolution in the booking's history.
func TestMasterFileTrackingSheet(t *testing.T) {
	t.Parallel()
	f := setupPipeline(t, pipeOpts{bookings: 40, partners: 2})
	ctx := context.Background()
	if _, err := f.p.RunAll(ctx, oct2026, "system:test"); err != nil {
		t.Fatal(err)
	}
	ids, err := store.BatchIDsOfPeriod(ctx, f.db.Pool, oct2026.String())
	if err != nil || len(ids) == 0 {
		t.Fatalf("batches = %v (%v)", ids, err)
	}
	batch := ids[0]
	items, err := store.LadderItems(ctx, f.db.Pool, batch, store.LadderItemFilter{})
	if err != nil || len(items) == 0 {
		t.Fatalf("items = %d (%v)", len(items), err)
	}
	open := func(version int) [][]string {
		t.Helper()
		ms, err := store.ListMasterFiles(ctx, f.db.Pool, batch)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(ms, func(m store.MasterFile) bool { return m.Version == version })
		if i < 0 {
			t.Fatalf("no master file v%d in %+v", version, ms)
		}
		_, data, err := store.MasterFileData(ctx, f.db.Pool, ms[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		wb, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		defer wb.Close()
		rows, err := wb.GetRows(masterfile.SheetTracking)
		if err != nil {
			t.Fatal(err)
		}
		// Every history time is a real date cell.
		start := slices.IndexFunc(rows, func(r []string) bool { return len(r) > 0 && r[0] == masterfile.HistoryTitle })
		if start < 0 {
			t.Fatalf("v%d Tracking has no %q section: %q", version, masterfile.HistoryTitle, rows)
		}
		for i := start + 2; i < len(rows); i++ {
			raw, _ := wb.GetCellValue(masterfile.SheetTracking, "B"+strconv.Itoa(i+1), excelize.Options{RawCellValue: true})
			if _, err := strconv.ParseFloat(raw, 64); err != nil {
				t.Errorf("v%d Tracking B%d = %q; want a date cell", version, i+1, raw)
			}
		}
		return rows
	}
	// history returns the events listed for ref.
	history := func(rows [][]string, ref string) []string {
		var out []string
		for _, r := range rows {
			if len(r) > 2 && r[0] == ref {
				out = append(out, r[2])
			}
		}
		return out
	}
	ref := items[0].AuthRef

	v1 := open(1)
	if len(v1[0]) == 0 || v1[0][0] != "Seq" || (len(v1) > 1 && len(v1[1]) != 0) {
		t.Errorf("v1 Tracking starts %q; want the email header and no email yet", v1[:2])
	}
	if got := history(v1, ref); !slices.Equal(got, []string{"Confirmed faulty", "Created"}) {
		t.Errorf("v1 history of %s = %q; want confirmed, created", ref, got)
	}
	for _, it := range items {
		if len(history(v1, it.AuthRef)) < 2 {
			t.Errorf("v1 lacks the history of %s", it.AuthRef)
		}
	}

	// The notification (16 Nov) carries v2, which lists the notification itself. The database
	// stamped the tracking with its own clock: put it on the pipeline's day.
	for _, q := range []string{`UPDATE faulty_periods SET ingested_at = $1, validated_at = $1, tracked_at = $1`,
		`UPDATE faulty_batches SET tracked_at = $1, created_at = $1`} {
		if _, err := f.db.Pool.Exec(ctx, q, time.Date(2026, 11, 12, 10, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := RunFaultyTick(ctx, TickRun{Pool: f.db.Pool, Ladder: FaultyLadderDeps{Policy: f.p.Policy, MailDomain: "recondesk.test"},
		Now: time.Date(2026, 11, 16, 9, 15, 0, 0, time.UTC), Actor: "system:test", BatchIDs: []string{batch}})
	if err != nil || res.Decided != 1 {
		t.Fatalf("notification tick = %+v (%v)", res, err)
	}
	es, err := store.FaultyEmailsByBatch(ctx, f.db.Pool, batch)
	if err != nil || len(es) != 1 {
		t.Fatalf("emails = %+v (%v)", es, err)
	}
	v2 := open(2)
	if r := v2[1]; len(r) < 6 || r[0] != "1" || r[1] != "notification" || r[2] != es[0].MessageID || r[3] != "this email" ||
		r[4] != "2026-11-16 09:15:00" || r[5] != es[0].To[0] {
		t.Errorf("v2 Tracking row 2 = %q; want the notification %s itself", r, es[0].MessageID)
	}
	if got := history(v2, ref); !slices.Equal(got, []string{"Confirmed faulty", "Created"}) {
		t.Errorf("v2 history of %s = %q", ref, got)
	}

	// A manual resolution shows in the next version's history, with its note.
	err = store.InTx(ctx, f.db.Pool, func(tx pgx.Tx) error {
		if _, err := store.ResolveItems(ctx, tx, batch, []int64{items[0].ID}, store.ResolvedManual, "credited by phone", "user:7"); err != nil {
			return err
		}
		_, err := WriteMasterFiles(ctx, tx, []string{batch}, "test", time.UTC, time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	v3 := open(3)
	if got := history(v3, ref); !slices.Equal(got, []string{"Confirmed faulty", "Created", "Resolved: manually"}) {
		t.Errorf("v3 history of %s = %q", ref, got)
	}
	for _, r := range v3 {
		if len(r) > 2 && r[0] == ref && r[2] == "Resolved: manually" && (len(r) < 7 || r[3] != "open" || r[4] != "resolved" || r[5] != "user:7" || r[6] != "credited by phone") {
			t.Errorf("v3 resolution row = %q", r)
		}
	}
	// The carried email of v2 is an earlier email now: listed with its outbox state.
	if r := v3[1]; len(r) < 4 || r[2] != es[0].MessageID || r[3] == "this email" {
		t.Errorf("v3 Tracking row 2 = %q; want the notification with its state", r)
	}
}
