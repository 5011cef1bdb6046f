package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"recondesk/internal/app"
	"recondesk/internal/config"
	"recondesk/internal/devstack"
	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

// TestSeedRepliesAnswerSentThreadsOnly: of three notified batches, the
// first has its notification and reminder sent, the second its
// notification, the third nothing sent. The dev inbox's seeded replies,
// read by the real inbox poll, answer the newest sent email of the first
// two (In-Reply-To its Message-ID) and nothing of the third.
func TestSeedRepliesAnswerSentThreadsOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	imap, err := devstack.StartIMAP(devstack.IMAPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = imap.Close() })
	cfg, err := config.Load(func(k string) string { return map[string]string{"IMAP_URL": imap.URL()}[k] })
	if err != nil {
		t.Fatal(err)
	}
	ids, err := store.CreateLadderFixture(ctx, db.Pool, store.LadderFixture{Batches: 3, Items: 2,
		TrackedAt: time.Date(2026, 2, 12, 10, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	a := app.New(app.Deps{Pool: db.Pool, Config: cfg, Logger: slog.New(slog.DiscardHandler)})
	send := func(batch string, seq int, at time.Time) string {
		t.Helper()
		var msgID string
		if err := db.Pool.QueryRow(ctx, `UPDATE faulty_emails SET state = 'sent', sent_at = $3 WHERE batch_id = $1::uuid AND seq = $2
			RETURNING message_id`, batch, seq, at).Scan(&msgID); err != nil {
			t.Fatalf("send %s #%d: %v", batch, seq, err)
		}
		return msgID
	}
	tick := func(at time.Time) {
		t.Helper()
		if _, err := a.Tick(ctx, app.TickInput{Now: at, Actor: app.System("faulty.tick")}); err != nil {
			t.Fatal(err)
		}
	}
	notified := time.Date(2026, 2, 16, 10, 0, 0, 0, time.UTC)
	tick(notified)
	send(ids[0], 1, notified)
	second := send(ids[1], 1, notified)
	reminded := time.Date(2026, 2, 21, 10, 0, 0, 0, time.UTC)
	tick(reminded)
	first := send(ids[0], 2, reminded)

	d := &inboxDev{srv: imap}
	if err := d.seedReplies(ctx, cfg, db.Pool); err != nil {
		t.Fatal(err)
	}
	if res, err := a.PollInbox(ctx, app.System("test")); err != nil || res.Stored != 3 {
		t.Fatalf("poll = %+v, %v; want two replies and the stray message", res, err)
	}
	rows, err := db.Pool.Query(ctx, `SELECT coalesce(batch_id::text, ''), in_reply_to FROM inbound_messages`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for rows.Next() {
		var batch, inReplyTo string
		if err := rows.Scan(&batch, &inReplyTo); err != nil {
			t.Fatal(err)
		}
		got[batch] = inReplyTo
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if got[ids[0]] != first || got[ids[1]] != second {
		t.Errorf("replies' In-Reply-To = %v; want %s → %s, %s → %s", got, ids[0], first, ids[1], second)
	}
	if _, ok := got[ids[2]]; ok {
		t.Errorf("the batch with nothing sent got a reply: %v", got)
	}
	if _, ok := got[""]; !ok {
		t.Errorf("the stray message is missing: %v", got)
	}
}
