package web

import (
	"context"
	"strings"
	"testing"

	"recondesk/internal/app"
	"recondesk/internal/auth"
	"recondesk/internal/store"
)

// TestFaultyPeriodRunLogReadable: a run's counts are a labelled table in plain words, without
// the raw JSON or the booking-record timings, and the queue page never says MongoDB.
func TestFaultyPeriodRunLogReadable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	viewer := b.login(t, auth.Viewer)
	id, err := store.StartFaultyRun(ctx, b.db.Pool, "2026-10", "validation", "system:faulty.phase")
	if err != nil {
		t.Fatal(err)
	}
	res := app.PhaseResult{Period: "2026-10", Phase: "validation", Millis: 2400, Validation: &app.ValidationCounts{
		Checked: 1200, Confirmed: 47, ByReason: map[string]int{"TARIFF_MISMATCH": 30}, MongoRoundTrips: 3, MongoMillis: 812}}
	if err := store.FinishFaultyRun(ctx, b.db.Pool, id, store.RunSucceeded, "", res, nil); err != nil {
		t.Fatal(err)
	}
	_, body := b.get(t, viewer, "/faulty/periods/2026-10")
	facts := byTestID(t, body, "run-facts")
	if len(facts) != 1 {
		t.Fatalf("run log has %d fact tables; want 1", len(facts))
	}
	got := textOf(facts[0])
	for _, want := range []string{"Bookings checked against our booking records", "1200", "Confirmed faulty", "47", "Faulty: TARIFF MISMATCH", "Took", "2.4 s"} {
		if !strings.Contains(got, want) {
			t.Errorf("run facts %q lack %q", got, want)
		}
	}
	for _, bad := range []string{"mongo_ms", "round_trips", `"checked":`} {
		if strings.Contains(body, bad) {
			t.Errorf("period page shows raw %q", bad)
		}
	}
	_, queue := b.get(t, viewer, "/faulty/queue")
	if strings.Contains(queue, "MongoDB") || !strings.Contains(queue, "our booking records") {
		t.Error("queue page copy still names MongoDB")
	}
}
