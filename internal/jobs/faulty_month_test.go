package jobs

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/faulty"
	"recondesk/internal/mail"
	"recondesk/internal/store"
)

// TestFaultyFullMonth runs the ladder of period 2026-01 through February
// with the clock as a parameter: a tick every 3 hours, the pipeline's
// phases simulated on their days, the partner fixing half the bookings
// after the final reminder and staff resolving the rest.
func TestFaultyFullMonth(t *testing.T) {
	t.Parallel()
	b := ladderSetup(t, ladderOpts{items: 6})
	ctx := context.Background()
	batch := b.ids[0]
	// The fixture is tracked; rewind it to "just ingested" so the phases happen on their days.
	if _, err := b.db.Pool.Exec(ctx, `UPDATE faulty_periods SET ingested_at = NULL, validated_at = NULL, tracked_at = NULL;
		UPDATE faulty_batches SET tracked_at = NULL`); err != nil {
		t.Fatal(err)
	}
	at := func(day, hour int) time.Time { return time.Date(2026, 2, day, hour, 0, 0, 0, time.UTC) }
	phases := map[time.Time]string{
		at(3, 6):  `UPDATE faulty_periods SET ingested_at = $1`,
		at(8, 6):  `UPDATE faulty_periods SET validated_at = $1`,
		at(12, 6): `UPDATE faulty_periods SET tracked_at = $1; UPDATE faulty_batches SET tracked_at = $1`,
	}
	items, err := store.LadderItems(ctx, b.db.Pool, batch, store.LadderItemFilter{})
	if err != nil || len(items) != 6 {
		t.Fatalf("items = %d, %v", len(items), err)
	}
	half := []int64{items[0].ID, items[1].ID, items[2].ID}

	type seen struct {
		at    time.Time
		state faulty.BatchStatus
	}
	var states []seen
	stateAt := func(now time.Time) faulty.BatchStatus {
		lb, err := store.LoadLadderBatch(ctx, b.db.Pool, batch)
		if err != nil {
			t.Fatal(err)
		}
		return faulty.BatchState(b.deps.Policy, lb.Facts, now)
	}
	for now := at(1, 0); now.Before(time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC)); now = now.Add(3 * time.Hour) {
		if q, ok := phases[now]; ok {
			for _, stmt := range strings.Split(q, "; ") {
				if _, err := b.db.Pool.Exec(ctx, stmt, now); err != nil {
					t.Fatal(err)
				}
			}
		}
		resolve := func(ids []int64, how, note string) {
			err := store.InTx(ctx, b.db.Pool, func(tx pgx.Tx) error {
				_, err := store.ResolveItems(ctx, tx, batch, ids, how, note, "system:test")
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		switch now {
		case at(27, 12): // the partner fixed half: they disappear from the next report
			resolve(half, store.ResolvedDisappeared, "")
		case time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC): // staff resolve the rest
			resolve(nil, store.ResolvedManual, "credited by the partner on the phone")
		}
		b.deps.Now = func() time.Time { return now }
		b.tick(t, now)
		b.sendPending(t)
		s := stateAt(now)
		if len(states) == 0 || states[len(states)-1].state != s {
			states = append(states, seen{now, s})
		}
	}

	var got []string
	for _, s := range states {
		got = append(got, s.at.Format("Jan 2 15h")+" "+string(s.state))
	}
	want := []string{"Feb 1 00h collecting", "Feb 8 06h validated", "Feb 12 06h tracked", "Feb 16 09h notified",
		"Feb 21 09h reminded", "Feb 25 09h escalated", "Feb 26 00h overdue", "Mar 2 12h resolved"}
	if !slices.Equal(got, want) {
		t.Errorf("batch states:\n got %v\nwant %v", got, want)
	}

	es := b.emails(t, batch)
	var thread []string
	for _, e := range es {
		thread = append(thread, fmt.Sprintf("%d %s %s %s", e.Seq, e.StepKey, e.PlannedAt.UTC().Format("Jan 2 15h"), e.State))
	}
	wantThread := []string{"1 notification Feb 16 09h sent", "2 reminder Feb 21 09h sent", "3 final_reminder Feb 25 09h sent", "4 closing Mar 2 12h sent"}
	if !slices.Equal(thread, wantThread) {
		t.Fatalf("thread:\n got %v\nwant %v", thread, wantThread)
	}
	for i, e := range es {
		escalation := slices.Contains(e.Cc, "boss1@partner.test")
		if escalation != (e.StepKey == "final_reminder") {
			t.Errorf("email %d (%s) has escalation in CC = %v", i+1, e.StepKey, escalation)
		}
		if e.MasterVersion == nil || *e.MasterVersion != i+2 {
			t.Errorf("email %d carries master file %v; want v%d", i+1, e.MasterVersion, i+2)
		}
	}
	for i, want := range []string{"Open bookings: 6\nResolved bookings: 0", "Open bookings: 6", "Open bookings: 6", "Open bookings: 0\nResolved bookings: 6"} {
		if !strings.Contains(es[i].BodyText, want) {
			t.Errorf("email %d body lacks %q", i+1, want)
		}
	}
	counts := b.smtp.CountByMessageID()
	if len(counts) != 4 {
		t.Errorf("server received %d distinct messages; want 4", len(counts))
	}
	for _, e := range es {
		if counts[e.MessageID] != 1 {
			t.Errorf("%s received %d times; want once", e.MessageID, counts[e.MessageID])
		}
	}
	last, _ := mail.Parse(b.smtp.Messages()[3].Data)
	if last.InReplyTo != es[2].MessageID || len(strings.Fields(last.References)) != 3 || !strings.HasPrefix(last.Subject, "Re: ") {
		t.Errorf("closing message threads as In-Reply-To %s References %q Subject %q", last.InReplyTo, last.References, last.Subject)
	}
	var skipped int
	_ = b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'faulty.step_skipped'`).Scan(&skipped)
	if skipped != 0 {
		t.Errorf("%d steps skipped in a month without downtime; want 0", skipped)
	}
}
