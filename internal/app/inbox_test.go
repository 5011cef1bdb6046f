package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/app"
	"recondesk/internal/config"
	"recondesk/internal/devstack"
	"recondesk/internal/faulty"
	"recondesk/internal/jobs"
	"recondesk/internal/mail"
	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

// The inbox tests run the real ladder on a fixture period (2026-01: tracked
// on 12 Feb, notification on Mon 16 Feb 09:00 UTC, reminder Sat 21 Feb,
// final reminder Wed 25 Feb) and read replies from a real in-process IMAP
// server.
var (
	inboxTracked = time.Date(2026, 2, 12, 10, 0, 0, 0, time.UTC)
	inboxNotify  = time.Date(2026, 2, 16, 9, 15, 0, 0, time.UTC)
	inboxReplyAt = time.Date(2026, 2, 17, 10, 0, 0, 0, time.UTC) // Tuesday
)

type inboxBundle struct {
	db     *pgtest.DB
	imap   *devstack.IMAPServer
	ids    []string
	ladder jobs.FaultyLadderDeps
	cfg    config.Config
	// raw holds each batch's first email as sent.
	raw map[string][]byte
	now time.Time
	mu  sync.Mutex
}

type inboxOpts struct {
	batches, items int
}

func inboxSetup(t *testing.T, o inboxOpts) *inboxBundle {
	t.Helper()
	return inboxSetupTB(t, o)
}

func inboxSetupTB(t testing.TB, o inboxOpts) *inboxBundle {
	t.Helper()
	ctx := context.Background()
	db := pgtest.New(t)
	srv, err := devstack.StartIMAP(devstack.IMAPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ids, err := store.CreateLadderFixture(ctx, db.Pool, store.LadderFixture{
		Batches: max(o.batches, 1), Items: max(o.items, 1), TrackedAt: inboxTracked,
		Escalation: []string{"boss{n}@partner.test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	b := &inboxBundle{db: db, imap: srv, ids: ids, raw: map[string][]byte{}, now: inboxReplyAt.Add(time.Minute),
		ladder: jobs.FaultyLadderDeps{Policy: faulty.DefaultPolicy(time.UTC), MailFrom: "Recondesk Finance <finance@recondesk.test>", MailDomain: "recondesk.test"},
		cfg:    config.Config{IMAPURL: srv.URL(), PartnerReplyGrace: 5, MailDomain: "recondesk.test", EMSPTZ: time.UTC}}
	b.tick(t, inboxNotify)
	for _, id := range ids {
		es, err := store.FaultyEmailsByBatch(ctx, db.Pool, id)
		if err != nil || len(es) != 1 {
			t.Fatalf("batch %s: %d emails after the notification tick (%v)", id, len(es), err)
		}
		msg, err := jobs.BuildFaultyMessage(ctx, db.Pool, b.ladder.MailFrom, es[0])
		if err != nil {
			t.Fatal(err)
		}
		raw, err := mail.Render(msg, inboxNotify)
		if err != nil {
			t.Fatal(err)
		}
		b.raw[id] = raw
	}
	return b
}

// app returns a new application layer (a new process, as far as the inbox goes).
func (b *inboxBundle) app() *app.App {
	return app.New(app.Deps{Pool: b.db.Pool, Config: b.cfg, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { b.mu.Lock(); defer b.mu.Unlock(); return b.now }})
}

func (b *inboxBundle) setNow(t time.Time) { b.mu.Lock(); b.now = t; b.mu.Unlock() }

func (b *inboxBundle) tick(t testing.TB, now time.Time) jobs.TickResult {
	t.Helper()
	res, err := jobs.RunFaultyTick(context.Background(), jobs.TickRun{Pool: b.db.Pool, Ladder: b.ladder, Now: now, Actor: "system:test"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (b *inboxBundle) deliver(t *testing.T, raw []byte, at time.Time) {
	t.Helper()
	if err := b.imap.DeliverAt(b.imap.Mailbox(), raw, at); err != nil {
		t.Fatal(err)
	}
}

func (b *inboxBundle) reply(t *testing.T, kind devstack.ReplyKind, batch string, o devstack.ReplyOptions) []byte {
	t.Helper()
	if o.Date.IsZero() {
		o.Date = inboxReplyAt
	}
	raw, err := devstack.BuildReply(kind, b.raw[batch], o)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func (b *inboxBundle) poll(t *testing.T, a *app.App) app.PollResult {
	t.Helper()
	res, err := a.PollInbox(context.Background(), app.System("inbox.poll"))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (b *inboxBundle) items(t *testing.T, batch string) []store.LadderItem {
	t.Helper()
	its, err := store.LadderItems(context.Background(), b.db.Pool, batch, store.LadderItemFilter{})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(its, func(x, y store.LadderItem) int { return strings.Compare(x.AuthRef, y.AuthRef) })
	return its
}

func (b *inboxBundle) inbound(t *testing.T, f store.InboundFilter) []store.Inbound {
	t.Helper()
	ms, err := store.ListInbound(context.Background(), b.db.Pool, f)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestPollInboxEveryReplyKind(t *testing.T) {
	t.Parallel()
	b := inboxSetup(t, inboxOpts{batches: 2, items: 4})
	ctx := context.Background()
	b0, b1 := b.ids[0], b.ids[1]
	own := b.items(t, b1)
	foreign := b.items(t, b0)[0].AuthRef

	b.deliver(t, b.reply(t, devstack.ReplyAuto, b0, devstack.ReplyOptions{MessageID: "<auto@p1.test>"}), inboxReplyAt)
	b.deliver(t, b.reply(t, devstack.ReplyHuman, b0, devstack.ReplyOptions{MessageID: "<human@p1.test>", Text: "We are on it."}), inboxReplyAt)
	b.deliver(t, b.reply(t, devstack.ReplyReturnedFile, b1, devstack.ReplyOptions{MessageID: "<file@p2.test>", Rows: []devstack.ReturnedRow{
		{AuthRef: own[0].AuthRef, Response: "Paid", Note: "paid 3 Dec"},
		{AuthRef: own[1].AuthRef, Response: "Disputed", Note: "session was fine"},
		{AuthRef: own[2].AuthRef, Response: "Credited"},
		{AuthRef: "UNKNOWN-REF-1", Response: "Paid"},
		{AuthRef: foreign, Response: "Paid", Note: "not yours to change"},
	}}), inboxReplyAt)
	b.deliver(t, b.reply(t, devstack.ReplyBounce, b1, devstack.ReplyOptions{MessageID: "<bounce@mx.partner.test>"}), inboxReplyAt)
	// References lost: the subject's batch token still finds the batch.
	b.deliver(t, b.reply(t, devstack.ReplyHuman, b1, devstack.ReplyOptions{MessageID: "<token@p2.test>", NoThreadHeaders: true}), inboxReplyAt)
	b.deliver(t, []byte("From: someone@else.test\r\nTo: finance@recondesk.test\r\nSubject: Invoice question\r\nMessage-ID: <stray@else.test>\r\n\r\nHello?\r\n"), inboxReplyAt)
	// Someone outside the partner's domains types its token: not filed under its batch.
	b.deliver(t, b.reply(t, devstack.ReplyReturnedFile, b1, devstack.ReplyOptions{MessageID: "<spoof@evil.test>", From: "x@evil.test",
		NoThreadHeaders: true, Rows: []devstack.ReturnedRow{{AuthRef: own[3].AuthRef, Response: "Paid"}}}), inboxReplyAt)

	res := b.poll(t, b.app())
	if res.Seen != 7 || res.Stored != 7 || res.Matched != 5 || res.Unmatched != 2 {
		t.Fatalf("poll = %+v; want 7 seen and stored, 5 matched, 2 unmatched", res)
	}
	want := map[string]int{"auto_reply": 1, "human": 5, "bounce": 1}
	for k, n := range want {
		if res.Kinds[k] != n {
			t.Errorf("kind %s: %d messages, want %d (%v)", k, res.Kinds[k], n, res.Kinds)
		}
	}
	byID := map[string]store.Inbound{}
	for _, m := range b.inbound(t, store.InboundFilter{}) {
		byID[m.MessageID] = m
	}
	check := func(mid, kind, batch, how string) store.Inbound {
		t.Helper()
		m := byID[mid]
		if m.Kind != kind || m.BatchID != batch || m.MatchedBy != how {
			t.Errorf("%s: kind %q batch %q matched by %q; want %q %q %q", mid, m.Kind, m.BatchID, m.MatchedBy, kind, batch, how)
		}
		return m
	}
	auto := check("<auto@p1.test>", "auto_reply", b0, "in_reply_to")
	human := check("<human@p1.test>", "human", b0, "in_reply_to")
	file := check("<file@p2.test>", "human", b1, "in_reply_to")
	check("<bounce@mx.partner.test>", "bounce", b1, "references")
	check("<token@p2.test>", "human", b1, "subject_token")
	check("<stray@else.test>", "human", "", "")
	check("<spoof@evil.test>", "human", "", "")
	if auto.PausesUntil != nil {
		t.Errorf("an auto-reply pauses the ladder until %v", auto.PausesUntil)
	}
	// Tuesday 17 Feb + 5 business days = Tuesday 24 Feb, same time.
	if wantPause := time.Date(2026, 2, 24, 10, 0, 0, 0, time.UTC); human.PausesUntil == nil || !human.PausesUntil.Equal(wantPause) {
		t.Errorf("human reply pauses until %v, want %v", human.PausesUntil, wantPause)
	}
	if human.BodyText != "We are on it.\n" {
		t.Errorf("human body = %q", human.BodyText)
	}

	// The returned file: own bookings answered, unknown and foreign ones listed with reasons.
	if len(file.Attachments) != 1 || file.Attachments[0].Name != "returned.xlsx" {
		t.Fatalf("file attachments = %+v", file.Attachments)
	}
	if len(file.Problems) != 2 || !strings.Contains(file.Problems[0], "UNKNOWN-REF-1 is not in this batch") ||
		!strings.Contains(file.Problems[1], foreign+" belongs to another partner's batch") {
		t.Errorf("file problems = %q", file.Problems)
	}
	resp, err := store.LatestResponses(ctx, b.db.Pool, b1)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range resp {
		got[r.AuthRef] = r.Response + "/" + r.Note + "/" + fmt.Sprint(r.Recheck) + "/" + r.Disputed
	}
	wantResp := map[string]string{
		own[0].AuthRef: "paid/paid 3 Dec/true/",
		own[1].AuthRef: "disputed/session was fine/false/open",
		own[2].AuthRef: "credited//true/",
	}
	if fmt.Sprint(got) != fmt.Sprint(wantResp) {
		t.Errorf("responses = %v\nwant %v", got, wantResp)
	}
	if r, _ := store.LatestResponses(ctx, b.db.Pool, b0); len(r) != 0 {
		t.Errorf("the other partner's booking got a response: %+v", r)
	}
	events, err := store.ListItemEvents(ctx, b.db.Pool, b1, own[1].ID, 10)
	if err != nil || len(events) == 0 || events[0].How != "partner_response:disputed" {
		t.Errorf("item history = %+v (%v)", events, err)
	}
	ds, err := store.ListDisputes(ctx, b.db.Pool, store.DisputeFilter{BatchID: b1, State: "open"})
	if err != nil || len(ds) != 1 || ds[0].AuthRef != own[1].AuthRef || ds[0].PartnerNote != "session was fine" {
		t.Errorf("open disputes = %+v (%v)", ds, err)
	}

	// The bounce marks the recipient failing on the partner.
	fails, err := store.RecipientFailures(ctx, b.db.Pool, 0)
	if err != nil || len(fails) != 1 || fails[0].Address != "ops2@partner.test" || fails[0].BatchID != b1 || !strings.Contains(fails[0].Reason, "5.1.1") {
		t.Errorf("recipient failures = %+v (%v)", fails, err)
	}

	// The ladder facts: both batches responded; batch 1 has one disputed item.
	lb, err := store.LoadLadderBatches(ctx, b.db.Pool, store.LadderFilter{IDs: b.ids})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lb {
		if l.Facts.RespondedAt.IsZero() || !l.Facts.Paused(inboxReplyAt.Add(time.Hour)) {
			t.Errorf("batch %s facts %+v: want responded and paused", l.ID, l.Facts)
		}
		if wantD := map[string]int{b0: 0, b1: 1}[l.ID]; l.Facts.Disputed != wantD {
			t.Errorf("batch %s disputed = %d, want %d", l.ID, l.Facts.Disputed, wantD)
		}
	}

	// A second poll finds nothing new.
	if res := b.poll(t, b.app()); res.Seen != 0 || res.Stored != 0 {
		t.Errorf("second poll = %+v", res)
	}
}

func TestPollInboxUIDsAcrossRestartsAndUIDValidity(t *testing.T) {
	t.Parallel()
	b := inboxSetup(t, inboxOpts{})
	msg := func(i int) []byte {
		return []byte(fmt.Sprintf("From: p@partner.test\r\nSubject: note %d\r\nMessage-ID: <m%d@partner.test>\r\n\r\nbody %d\r\n", i, i, i))
	}
	for i := 1; i <= 3; i++ {
		b.deliver(t, msg(i), inboxReplyAt)
	}
	if res := b.poll(t, b.app()); res.Seen != 3 || res.Stored != 3 {
		t.Fatalf("first poll = %+v", res)
	}
	for i := 4; i <= 5; i++ {
		b.deliver(t, msg(i), inboxReplyAt)
	}
	// A new process continues from the stored UID.
	res := b.poll(t, b.app())
	if res.Seen != 2 || res.Stored != 2 || res.Duplicates != 0 {
		t.Fatalf("poll after restart = %+v; want the 2 new messages only", res)
	}
	v1 := res.UIDValidity
	if last, err := store.InboxLastUID(context.Background(), b.db.Pool, mailboxKey(b), v1); err != nil || last != 5 {
		t.Errorf("last UID = %d (%v), want 5", last, err)
	}
	if res := b.poll(t, b.app()); res.Seen != 0 {
		t.Errorf("idle poll = %+v", res)
	}
	// The server rebuilds the folder: new UIDVALIDITY, the same messages plus one.
	if err := b.imap.RecreateMailbox(); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 6; i++ {
		b.deliver(t, msg(i), inboxReplyAt)
	}
	res = b.poll(t, b.app())
	if res.UIDValidity == v1 || res.Seen != 6 || res.Stored != 1 || res.Duplicates != 5 {
		t.Fatalf("poll after UIDVALIDITY change = %+v; want 6 seen, 1 stored, 5 duplicates under a new UIDVALIDITY", res)
	}
	if n := len(b.inbound(t, store.InboundFilter{})); n != 6 {
		t.Errorf("%d messages stored, want 6", n)
	}
}

func mailboxKey(b *inboxBundle) string {
	// finance@host:port/INBOX, as inbox.Mailbox.Key builds it.
	u := strings.TrimPrefix(b.imap.URL(), "imap://finance:finance@")
	return "finance@" + u
}

func TestPollInboxConcurrentWorkersProcessEachMessageOnce(t *testing.T) {
	t.Parallel()
	b := inboxSetup(t, inboxOpts{})
	for i := range 40 {
		var raw []byte
		if i%4 == 0 {
			// No Message-ID: stored once by its hash.
			raw = []byte(fmt.Sprintf("From: p@partner.test\r\nSubject: hashed %d\r\n\r\nbody %d\r\n", i, i))
		} else {
			raw = b.reply(t, devstack.ReplyHuman, b.ids[0], devstack.ReplyOptions{MessageID: fmt.Sprintf("<c%d@p.test>", i)})
		}
		b.deliver(t, raw, inboxReplyAt)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	stored, busy := 0, 0
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := b.app()
			for range 3 {
				res, err := a.PollInbox(context.Background(), app.System("inbox.poll"))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				stored += res.Stored
				if res.Busy {
					busy++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if stored != 40 {
		t.Errorf("the workers stored %d messages in total, want 40", stored)
	}
	var rows, audits int
	_ = b.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM inbound_messages`).Scan(&rows)
	_ = b.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE action = 'inbox.message_received'`).Scan(&audits)
	if rows != 40 || audits != 40 {
		t.Errorf("%d messages and %d audit events, want 40 each", rows, audits)
	}
	t.Logf("%d of 18 polls found another poll running", busy)
}

// TestLadderPausesForRepliesAndSkipsDisputes runs the ladder end to end: a
// human reply pauses it for the grace period; a batch whose open items are
// all disputed gets no reminder; a rejected dispute goes back on the ladder
// with its note in the next email, an accepted one resolves its item.
func TestLadderPausesForRepliesAndSkipsDisputes(t *testing.T) {
	t.Parallel()
	b := inboxSetup(t, inboxOpts{batches: 2, items: 2})
	ctx := context.Background()
	b0, b1 := b.ids[0], b.ids[1]
	its := b.items(t, b1)
	b.deliver(t, b.reply(t, devstack.ReplyHuman, b0, devstack.ReplyOptions{}), inboxReplyAt)
	b.deliver(t, b.reply(t, devstack.ReplyReturnedFile, b1, devstack.ReplyOptions{Rows: []devstack.ReturnedRow{
		{AuthRef: its[0].AuthRef, Response: "Disputed", Note: "not ours"},
		{AuthRef: its[1].AuthRef, Response: "Disputed", Note: "cancelled by the driver"},
	}}), inboxReplyAt)
	a := b.app()
	b.poll(t, a)

	levels := func(batch string) []string {
		es, err := store.FaultyEmailsByBatch(ctx, b.db.Pool, batch)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range es {
			out = append(out, e.Level)
		}
		return out
	}
	// Saturday 21 Feb: the reminder is due, but both batches are paused.
	if res := b.tick(t, time.Date(2026, 2, 21, 9, 15, 0, 0, time.UTC)); res.Decided != 0 {
		t.Fatalf("tick during the pause decided %d emails: %+v", res.Decided, res.Batches)
	}
	lb, _ := store.LoadLadderBatch(ctx, b.db.Pool, b0)
	tl := faulty.Timeline(b.ladder.Policy, lb.Facts, time.Date(2026, 2, 21, 9, 15, 0, 0, time.UTC))
	var responded, paused bool
	for _, s := range tl {
		responded = responded || (s.Phase == faulty.PhasePartnerResponded && s.Done.Equal(inboxReplyAt))
		paused = paused || (s.Level == faulty.LevelReminder && s.State == faulty.StatePaused)
	}
	if !responded || !paused {
		t.Errorf("timeline shows partner responded %t, reminder paused %t: %+v", responded, paused, tl)
	}
	// Tuesday 24 Feb 11:00: the pause is over for batch 0; batch 1's items are all disputed.
	b.tick(t, time.Date(2026, 2, 24, 11, 0, 0, 0, time.UTC))
	if got := levels(b0); !slices.Equal(got, []string{"notification", "reminder"}) {
		t.Errorf("batch 0 emails after the pause = %v", got)
	}
	if got := levels(b1); !slices.Equal(got, []string{"notification"}) {
		t.Errorf("batch 1 (all disputed) emails = %v, want only the notification", got)
	}

	ds, err := store.ListDisputes(ctx, b.db.Pool, store.DisputeFilter{BatchID: b1, State: "open"})
	if err != nil || len(ds) != 2 {
		t.Fatalf("disputes = %+v (%v)", ds, err)
	}
	byRef := map[string]store.Dispute{ds[0].AuthRef: ds[0], ds[1].AuthRef: ds[1]}
	finance := app.User(1)
	if err := a.RejectDispute(ctx, finance, byRef[its[0].AuthRef].ID, ""); err == nil {
		t.Error("a rejection without a note was accepted")
	}
	if err := a.RejectDispute(ctx, finance, byRef[its[0].AuthRef].ID, "Our CDR shows 14 kWh delivered."); err != nil {
		t.Fatal(err)
	}
	if err := a.AcceptDispute(ctx, finance, byRef[its[1].AuthRef].ID, "driver cancelled"); err != nil {
		t.Fatal(err)
	}
	if err := a.AcceptDispute(ctx, finance, byRef[its[1].AuthRef].ID, "again"); err == nil {
		t.Error("a decided dispute was decided again")
	}
	after := b.items(t, b1)
	if after[0].State != "open" || after[1].State != "resolved" || after[1].Resolution != "manual" {
		t.Errorf("items after the decisions = %+v", after)
	}
	// Wednesday 25 Feb: the final reminder goes to batch 1 too, carrying the rejection's note.
	b.tick(t, time.Date(2026, 2, 25, 9, 15, 0, 0, time.UTC))
	if got := levels(b1); !slices.Equal(got, []string{"notification", "final_reminder"}) {
		t.Fatalf("batch 1 emails after the rejection = %v", got)
	}
	es, _ := store.FaultyEmailsByBatch(ctx, b.db.Pool, b1)
	last := es[len(es)-1]
	if !strings.Contains(last.BodyText, its[0].AuthRef+": Our CDR shows 14 kWh delivered.") {
		t.Errorf("final reminder body lacks the rejection note:\n%s", last.BodyText)
	}
	var mailed *int64
	_ = b.db.Pool.QueryRow(ctx, `SELECT mailed_email_id FROM faulty_disputes WHERE id = $1`, byRef[its[0].AuthRef].ID).Scan(&mailed)
	if mailed == nil || *mailed != last.ID {
		t.Errorf("the rejection is marked as mailed by %v, want email %d", mailed, last.ID)
	}
}

func TestAttachToBatchAndReplyToPartner(t *testing.T) {
	t.Parallel()
	b := inboxSetup(t, inboxOpts{})
	ctx := context.Background()
	b.deliver(t, []byte("From: ops1@partner.test\r\nSubject: about January\r\nMessage-ID: <lost@p.test>\r\n\r\nWe paid.\r\n"), inboxReplyAt)
	a := b.app()
	b.poll(t, a)
	q := b.inbound(t, store.InboundFilter{Unmatched: true})
	if len(q) != 1 {
		t.Fatalf("unmatched queue = %+v", q)
	}
	finance := app.User(1)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.AttachToBatch(ctx, finance, q[0].ID, b.ids[0]); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Errorf("%d concurrent attaches succeeded, want 1", ok)
	}
	m := b.inbound(t, store.InboundFilter{ID: q[0].ID})[0]
	if m.BatchID != b.ids[0] || m.MatchedBy != "manual" || m.AttachedBy != "user:1" || m.PausesUntil == nil {
		t.Errorf("attached message = %+v", m)
	}
	if _, err := a.ReplyToPartner(ctx, finance, b.ids[0], "  "); err == nil {
		t.Error("an empty reply was accepted")
	}
	// Without a River client the use case cannot queue the send job.
	if _, err := a.ReplyToPartner(ctx, finance, b.ids[0], "Thanks, noted."); err == nil {
		t.Error("a reply was queued without a River client")
	}
	client, err := jobs.NewClient(jobs.Deps{Pool: b.db.Pool, App: a, Logger: slog.New(slog.DiscardHandler)}, jobs.RoleWeb)
	if err != nil {
		t.Fatal(err)
	}
	_ = client
	id, err := a.ReplyToPartner(ctx, finance, b.ids[0], "Thanks, noted.\nWe will check <the> CDR.")
	if err != nil {
		t.Fatal(err)
	}
	e, err := store.FaultyEmailByID(ctx, b.db.Pool, id)
	if err != nil {
		t.Fatal(err)
	}
	if e.Seq != 2 || e.Level != "reply" || e.Subject != "Re: [Faulty bookings] Partner 1 (DE*T1) 2026-01 [RD-2026-01-DE*T1]" ||
		!strings.Contains(e.BodyHTML, "&lt;the&gt;") || e.State != "pending" {
		t.Errorf("reply email = %+v", e)
	}
	var jobsQueued, audits int
	_ = b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'faulty.send' AND args->>'email_id' = $1`, fmt.Sprint(id)).Scan(&jobsQueued)
	_ = b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'faulty.reply_decided' AND subject_id = $1`, b.ids[0]).Scan(&audits)
	if jobsQueued != 1 || audits != 1 {
		t.Errorf("send jobs %d, audit events %d; want 1 each", jobsQueued, audits)
	}
	msg, err := jobs.BuildFaultyMessage(ctx, b.db.Pool, "finance@recondesk.test", e)
	if err != nil || msg.InReplyTo != mail.MessageID(b.ids[0], 1, "recondesk.test") {
		t.Errorf("reply threading: In-Reply-To %q (%v)", msg.InReplyTo, err)
	}
	_ = pgx.ErrNoRows
}

// TestInboxDecisionsHoldUnderConcurrency: 30 simultaneous accepts of one
// dispute resolve it once; 30 simultaneous replies each get their own place
// in the thread.
func TestInboxDecisionsHoldUnderConcurrency(t *testing.T) {
	t.Parallel()
	b := inboxSetup(t, inboxOpts{items: 2})
	ctx := context.Background()
	its := b.items(t, b.ids[0])
	b.deliver(t, b.reply(t, devstack.ReplyReturnedFile, b.ids[0], devstack.ReplyOptions{Rows: []devstack.ReturnedRow{
		{AuthRef: its[0].AuthRef, Response: "Disputed", Note: "x"}}}), inboxReplyAt)
	a := b.app()
	b.poll(t, a)
	if _, err := jobs.NewClient(jobs.Deps{Pool: b.db.Pool, App: a, Logger: slog.New(slog.DiscardHandler)}, jobs.RoleWeb); err != nil {
		t.Fatal(err)
	}
	ds, _ := store.ListDisputes(ctx, b.db.Pool, store.DisputeFilter{State: "open"})
	if len(ds) != 1 {
		t.Fatalf("disputes = %+v", ds)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted, replies := 0, 0
	for i := range 30 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := a.AcceptDispute(ctx, app.User(1), ds[0].ID, "ok"); err == nil {
				mu.Lock()
				accepted++
				mu.Unlock()
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := a.ReplyToPartner(ctx, app.User(1), b.ids[0], fmt.Sprintf("reply %d", i)); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			replies++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if accepted != 1 || replies != 30 {
		t.Errorf("%d accepts and %d replies succeeded; want 1 and 30", accepted, replies)
	}
	es, _ := store.FaultyEmailsByBatch(ctx, b.db.Pool, b.ids[0])
	for i, e := range es {
		if e.Seq != i+1 {
			t.Fatalf("thread seqs are not 1..%d: email %d has seq %d", len(es), i, e.Seq)
		}
	}
	if len(es) != 31 {
		t.Errorf("thread has %d emails, want the notification and 30 replies", len(es))
	}
	var resolved int
	_ = b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM faulty_item_events WHERE item_id = $1 AND to_state = 'resolved'`, its[0].ID).Scan(&resolved)
	if resolved != 1 {
		t.Errorf("the disputed item was resolved %d times", resolved)
	}
}
