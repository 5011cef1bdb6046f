package jobs

import (
	"context"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"

	"recondesk/internal/app"
	"recondesk/internal/config"
	"recondesk/internal/devstack"
	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

func TestInboxPollIsPeriodicOnlyWithIMAPURL(t *testing.T) {
	t.Parallel()
	if n := len(inboxPeriodic(Deps{App: app.New(app.Deps{})})); n != 0 {
		t.Errorf("without IMAP_URL: %d periodic inbox jobs", n)
	}
	if n := len(inboxPeriodic(Deps{App: app.New(app.Deps{Config: config.Config{IMAPURL: "imap://u:p@localhost/INBOX"}})})); n != 1 {
		t.Errorf("with IMAP_URL: %d periodic inbox jobs, want 1", n)
	}
}

func TestInboxPollWorkerAndRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	srv, err := devstack.StartIMAP(devstack.IMAPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	_ = srv.Deliver([]byte("From: a@p.test\r\nSubject: one\r\nMessage-ID: <1@p.test>\r\n\r\nx\r\n"))
	_ = srv.Deliver([]byte("From: a@p.test\r\nSubject: two\r\nMessage-ID: <2@p.test>\r\n\r\nx\r\n"))
	a := app.New(app.Deps{Pool: db.Pool, Config: config.Config{IMAPURL: srv.URL()}, Logger: slog.New(slog.DiscardHandler)})

	w := rivertest.NewWorker(t, riverpgxv5.New(db.Pool), &river.Config{}, river.Worker[InboxPollArgs](&InboxPollWorker{App: a}))
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	res, err := w.Work(ctx, t, tx, InboxPollArgs{}, nil)
	if err != nil || res.EventKind != river.EventKindJobCompleted {
		t.Fatalf("work = %+v, %v", res, err)
	}
	if ms, _ := store.ListInbound(ctx, db.Pool, store.InboundFilter{}); len(ms) != 2 {
		t.Errorf("the worker stored %d messages, want 2", len(ms))
	}

	// "Check mail now" queues one poll, however often it is pressed.
	client, err := NewClient(Deps{Pool: db.Pool, App: a, Logger: slog.New(slog.DiscardHandler)}, RoleWeb)
	if err != nil {
		t.Fatal(err)
	}
	_ = client
	for range 3 {
		if err := a.RequestInboxPoll(ctx, app.User(1)); err != nil {
			t.Fatal(err)
		}
	}
	rows, _ := db.Pool.Query(ctx, `SELECT id FROM river_job WHERE kind = 'inbox.poll'`)
	ids, _ := pgx.CollectRows(rows, pgx.RowTo[int64])
	if len(ids) != 1 {
		t.Errorf("%d inbox.poll jobs queued, want 1", len(ids))
	}
	rivertest.RequireInserted(ctx, t, riverpgxv5.New(db.Pool), &InboxPollArgs{}, nil)
}
