package app_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"recondesk/internal/devstack"
	"recondesk/internal/masterfile"
	"recondesk/internal/store"
)

// TestReminderListsDisputedBookingsApart: a booking the partner disputes is out of the
// ladder, so the reminder neither counts nor lists it as open; it lists it apart, under
// dispute, and the attached master file shows the dispute in the booking's history.
func TestReminderListsDisputedBookingsApart(t *testing.T) {
	t.Parallel()
	b := inboxSetup(t, inboxOpts{batches: 1, items: 3})
	ctx := context.Background()
	batch := b.ids[0]
	its := b.items(t, batch)
	disputed := its[0].AuthRef
	b.deliver(t, b.reply(t, devstack.ReplyReturnedFile, batch, devstack.ReplyOptions{Rows: []devstack.ReturnedRow{
		{AuthRef: disputed, Response: "Disputed", Note: "not ours"},
	}}), inboxReplyAt)
	b.poll(t, b.app())
	// Tuesday 24 Feb 11:00: the reply's pause is over and the reminder is due.
	if res := b.tick(t, time.Date(2026, 2, 24, 11, 0, 0, 0, time.UTC)); res.Decided != 1 {
		t.Fatalf("tick decided %d emails; want the reminder: %+v", res.Decided, res.Batches)
	}
	es, err := store.FaultyEmailsByBatch(ctx, b.db.Pool, batch)
	if err != nil || len(es) != 2 || es[1].Level != "reminder" {
		t.Fatalf("emails = %+v (%v)", es, err)
	}
	r := es[1]
	open, apart, found := strings.Cut(r.BodyText, "Under dispute (1, ")
	if !found {
		t.Fatalf("reminder lists nothing under dispute:\n%s", r.BodyText)
	}
	if strings.Contains(open, disputed) || !strings.Contains(apart, disputed) {
		t.Errorf("disputed %s listed as open (%t) / under dispute (%t):\n%s", disputed, strings.Contains(open, disputed), strings.Contains(apart, disputed), r.BodyText)
	}
	for _, it := range its[1:] {
		if !strings.Contains(open, it.AuthRef) {
			t.Errorf("open booking %s not listed as open:\n%s", it.AuthRef, r.BodyText)
		}
	}
	if !strings.Contains(open, "Open bookings: 2\n") || !strings.Contains(open, "Bookings under dispute: 1\n") || !strings.Contains(open, "2 charging sessions") {
		t.Errorf("reminder counts:\n%s", r.BodyText)
	}
	if !strings.Contains(r.BodyHTML, `data-testid="disputed"`) || strings.Count(r.BodyHTML, disputed) != 1 {
		t.Errorf("HTML lists the disputed booking %d times, under dispute %t", strings.Count(r.BodyHTML, disputed), strings.Contains(r.BodyHTML, `data-testid="disputed"`))
	}
	// The attached master file shows the dispute in the booking's history.
	_, data, err := store.FaultyAttachment(ctx, b.db.Pool, *r.MasterFileID)
	if err != nil {
		t.Fatal(err)
	}
	wb, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := wb.GetRows(masterfile.SheetTracking)
	if !slices.ContainsFunc(rows, func(row []string) bool {
		return len(row) > 6 && row[0] == disputed && row[2] == "Disputed by the partner" && row[6] == "not ours"
	}) {
		t.Errorf("Tracking has no dispute of %s: %q", disputed, rows)
	}
}
