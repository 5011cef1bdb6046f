package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"recondesk/internal/config"
	"recondesk/internal/devstack"
	"recondesk/internal/mail"
	"recondesk/internal/pgtest"
)

// TestSeedDemoDrivesTheLadder seeds the demo with a fixed "now" (18 March: January's ladder is
// over, February's notification went out on the 16th) through the real ladder, outbox and an
// in-process SMTP server: batches end at several ladder stages, one resolved with its closing
// message, every thread's messages are chained by In-Reply-To/References and dated on their
// simulated days, and a second seed changes nothing.
func TestSeedDemoDrivesTheLadder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	mongoURI, stopMongo, err := devstack.StartFerretDB(ctx, devstack.FerretOptions{Dir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopMongo)
	smtp, err := devstack.StartSMTP(devstack.SMTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = smtp.Close() })
	imap, err := devstack.StartIMAP(devstack.IMAPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = imap.Close() })
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"SMTP_URL": smtp.URL(), "IMAP_URL": imap.URL(), "EMSP_TZ": "Europe/Berlin"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 18, 12, 0, 0, 0, cfg.EMSPTZ)
	out := &syncBuffer{}
	env := seedEnv{cfg: cfg, log: slog.New(slog.DiscardHandler), pool: db.Pool, stdout: out, mongoURI: mongoURI, now: now,
		inbox: func(raw []byte, at time.Time) error { return imap.DeliverAt(imap.Mailbox(), raw, at) }}

	began := time.Now()
	if err := seedDemo(ctx, env); err != nil {
		t.Fatalf("seed demo: %v\n%s", err, out.String())
	}
	t.Logf("first seed took %v\n%s", time.Since(began), out.String())

	// Per batch: its period, open items and the levels of its thread in order.
	type thread struct {
		period string
		open   int
		// disputed counts the open items the partner disputes.
		disputed int
		levels   []string
		ids      []string
		states   []string
	}
	threads := map[string]*thread{}
	rows, err := db.Pool.Query(ctx, `
		SELECT b.id::text, b.period, (SELECT count(*) FROM faulty_items i WHERE i.batch_id = b.id AND i.state = 'open'),
		       (SELECT count(*) FROM faulty_disputes d WHERE d.batch_id = b.id AND d.state = 'open'),
		       coalesce(e.level, ''), coalesce(e.message_id, ''), coalesce(e.state, '')
		FROM faulty_batches b LEFT JOIN faulty_emails e ON e.batch_id = b.id
		ORDER BY b.id, e.seq`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, period, level, msgID, state string
		var open, disputed int
		if err := rows.Scan(&id, &period, &open, &disputed, &level, &msgID, &state); err != nil {
			t.Fatal(err)
		}
		th := threads[id]
		if th == nil {
			th = &thread{period: period, open: open, disputed: disputed}
			threads[id] = th
		}
		if level != "" {
			th.levels, th.ids, th.states = append(th.levels, level), append(th.ids, msgID), append(th.states, state)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	stages := map[string]int{}
	emails, resolvedWithClosing, disputedAtNotification := 0, 0, 0
	for id, th := range threads {
		if len(th.levels) == 0 {
			t.Errorf("batch %s (%s) has no email thread: %v", id, th.period, th)
			continue
		}
		last := th.levels[len(th.levels)-1]
		stages[last]++
		emails += len(th.levels)
		for i, s := range th.states {
			if s != "sent" {
				t.Errorf("batch %s email %d (%s) is %s, not sent", id, i+1, th.levels[i], s)
			}
		}
		if th.open == 0 && last == "closing" && len(th.levels) > 1 {
			resolvedWithClosing++
		}
		switch th.period {
		case "2026-02":
			if strings.Join(th.levels, ",") != "notification" {
				t.Errorf("February batch %s: thread %v; want the notification only", id, th.levels)
			}
		case "2026-01":
			if th.disputed > 0 {
				disputedAtNotification++
				if strings.Join(th.levels, ",") != "notification" || th.disputed != th.open {
					t.Errorf("January batch %s disputed by its partner: thread %v, %d of %d open items disputed; want the notification only, all disputed",
						id, th.levels, th.disputed, th.open)
				}
				continue
			}
			if len(th.levels) < 3 || strings.Join(th.levels[:3], ",") != "notification,reminder,final_reminder" {
				t.Errorf("January batch %s: thread %v; want notification, reminder, final reminder first", id, th.levels)
			}
		}
	}
	if len(stages) < 3 || stages["notification"] == 0 || stages["final_reminder"] == 0 || stages["re_escalation"] != 1 || stages["closing"] != 1 {
		t.Errorf("the batches' last emails are %v; want notification, final reminder, one re-escalation and one closing", stages)
	}
	if disputedAtNotification != 1 {
		t.Errorf("%d January batches held at the notification by the partner's dispute; want 1", disputedAtNotification)
	}
	// The partner's reply is in the inbox, filed under its batch, on its simulated day.
	var replies int
	err = db.Pool.QueryRow(ctx, `SELECT count(*) FROM inbound_messages WHERE message_id LIKE '<demo.dispute.%' AND batch_id IS NOT NULL
		AND received_at = $1`, time.Date(2026, 2, 18, 10, 30, 0, 0, cfg.EMSPTZ)).Scan(&replies)
	if err != nil || replies != 1 {
		t.Errorf("partner dispute replies in the inbox: %d, %v; want 1", replies, err)
	}
	if resolvedWithClosing != 1 {
		t.Errorf("%d resolved batches whose thread ends with the closing message; want 1", resolvedWithClosing)
	}

	// Every email was delivered once, threaded, on its simulated day.
	got := smtp.Messages()
	if len(got) != emails {
		t.Fatalf("the SMTP server received %d messages for %d emails", len(got), emails)
	}
	byID := map[string]*mail.Parsed{}
	for _, m := range got {
		p, err := mail.Parse(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		if byID[p.MessageID] != nil {
			t.Errorf("%s delivered twice", p.MessageID)
		}
		byID[p.MessageID] = p
		if !p.Date.Before(now.Add(time.Minute)) || p.Date.Before(time.Date(2026, 2, 1, 0, 0, 0, 0, cfg.EMSPTZ)) {
			t.Errorf("%s is dated %v, outside the simulated days", p.MessageID, p.Date)
		}
	}
	for id, th := range threads {
		for i, msgID := range th.ids {
			p := byID[msgID]
			if p == nil {
				t.Errorf("batch %s email %d (%s) was not delivered", id, i+1, msgID)
				continue
			}
			if i == 0 {
				if p.InReplyTo != "" {
					t.Errorf("the first email of batch %s replies to %s", id, p.InReplyTo)
				}
				continue
			}
			if p.InReplyTo != th.ids[i-1] || !strings.Contains(p.References, th.ids[0]) || !strings.Contains(p.References, th.ids[i-1]) {
				t.Errorf("batch %s email %d: In-Reply-To %q, References %q; want them to point at %s and %s",
					id, i+1, p.InReplyTo, p.References, th.ids[0], th.ids[i-1])
			}
		}
		if th.period == "2026-01" {
			if d := byID[th.ids[0]].Date; !d.Equal(time.Date(2026, 2, 16, 9, 0, 0, 0, cfg.EMSPTZ)) {
				t.Errorf("January's notification of batch %s is dated %v; want 16 Feb 09:00", id, d)
			}
		}
	}

	counts := func() [7]int {
		var c [7]int
		err := db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM faulty_emails), (SELECT count(*) FROM audit_events),
			(SELECT count(*) FROM river_job), (SELECT count(*) FROM faulty_runs), (SELECT count(*) FROM faulty_items WHERE state = 'open'),
			(SELECT count(*) FROM inbound_messages), (SELECT count(*) FROM faulty_disputes)`).
			Scan(&c[0], &c[1], &c[2], &c[3], &c[4], &c[5], &c[6])
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	first := counts()
	began = time.Now()
	if err := seedDemo(ctx, env); err != nil {
		t.Fatalf("second seed: %v", err)
	}
	t.Logf("second seed took %v", time.Since(began))
	if second := counts(); second != first {
		t.Errorf("the second seed changed emails, audit, jobs, runs, open items, inbound, disputes: %v → %v", first, second)
	}
	if n := len(smtp.Messages()); n != len(got) {
		t.Errorf("the second seed sent %d more messages", n-len(got))
	}
}

// TestSeedDemoWithoutSMTPQueuesTheThreads: `seed demo` with no SMTP_URL decides the same
// threads, leaving each email pending with its faulty.send job queued for `serve`.
func TestSeedDemoWithoutSMTPQueuesTheThreads(t *testing.T) {
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
	env := seedEnv{cfg: cfg, log: slog.New(slog.DiscardHandler), pool: db.Pool, stdout: out, mongoURI: mongoURI,
		now: time.Date(2026, 3, 18, 12, 0, 0, 0, time.UTC)}
	if err := seedFaultyDemo(ctx, env); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	var emails, pending, jobs, closing int
	err = db.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE level = 'closing'),
		(SELECT count(*) FROM river_job WHERE kind = 'faulty.send' AND state = 'available')
		FROM faulty_emails`).Scan(&emails, &pending, &closing, &jobs)
	if err != nil {
		t.Fatal(err)
	}
	if emails < 20 || pending != emails || jobs != emails || closing != 1 {
		t.Errorf("emails %d, pending %d, queued sends %d, closing %d; want every email pending with its send queued\n%s",
			emails, pending, jobs, closing, out.String())
	}
}
