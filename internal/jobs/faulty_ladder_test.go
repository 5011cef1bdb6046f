package jobs

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/xuri/excelize/v2"

	"recondesk/internal/devstack"
	"recondesk/internal/faulty"
	"recondesk/internal/mail"
	"recondesk/internal/masterfile"
	"recondesk/internal/metrics"
	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

// Period 2026-01: tracking done on 2026-02-12, notification on 2026-02-16
// 09:00, reminder on the 21st, final reminder on the 25th (UTC).
var (
	ladderTracked = time.Date(2026, 2, 12, 10, 0, 0, 0, time.UTC)
	onNotify      = time.Date(2026, 2, 16, 9, 15, 0, 0, time.UTC)
	onRemind      = time.Date(2026, 2, 21, 9, 15, 0, 0, time.UTC)
	onFinal       = time.Date(2026, 2, 25, 9, 15, 0, 0, time.UTC)
)

type ladderBundle struct {
	db   *pgtest.DB
	smtp *devstack.SMTPServer
	deps FaultyLadderDeps
	ids  []string
	log  *slog.Logger
	m    *metrics.Metrics
}

type ladderOpts struct {
	batches, items int
	now            time.Time
}

// masterXLSX is a small workbook standing in for a master file version.
func masterXLSX(t testing.TB, marker string) []byte {
	t.Helper()
	f := excelize.NewFile()
	_ = f.SetSheetRow("Sheet1", "A1", &[]any{"Faulty bookings", marker})
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ladderSetup(t *testing.T, o ladderOpts) *ladderBundle {
	t.Helper()
	db := pgtest.New(t)
	srv, err := devstack.StartSMTP(devstack.SMTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	sender, err := mail.NewSender(srv.URL(), mail.SenderOptions{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := store.CreateLadderFixture(context.Background(), db.Pool, store.LadderFixture{
		Batches: max(o.batches, 1), Items: max(o.items, 1), TrackedAt: ladderTracked,
		Cc: []string{"billing{n}@partner.test"}, Escalation: []string{"boss{n}@partner.test"},
		MasterFile: masterXLSX(t, "v1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	now := o.now
	if now.IsZero() {
		now = onNotify
	}
	return &ladderBundle{db: db, smtp: srv, ids: ids, log: slog.New(slog.NewTextHandler(io.Discard, nil)), m: metrics.New(),
		deps: FaultyLadderDeps{Sender: sender, Policy: faulty.DefaultPolicy(time.UTC), MailFrom: "Recondesk Finance <finance@recondesk.test>",
			MailDomain: "recondesk.test", Now: func() time.Time { return now }, RetryDelay: 50 * time.Millisecond, MaxAttempts: 4}}
}

// tick runs one tick at now without a River client (emails stay pending).
func (b *ladderBundle) tick(t *testing.T, now time.Time) TickResult {
	t.Helper()
	res, err := RunFaultyTick(context.Background(), TickRun{Pool: b.db.Pool, Ladder: b.deps, Now: now, Actor: "system:test", Metrics: b.m})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// sendPending sends every pending email synchronously, in id order.
func (b *ladderBundle) sendPending(t *testing.T) {
	t.Helper()
	rows, _ := b.db.Pool.Query(context.Background(), `SELECT id FROM faulty_emails WHERE state = 'pending' ORDER BY id`)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, err := SendFaultyEmail(context.Background(), b.db.Pool, b.deps, b.m, id, false, "system:test"); err != nil {
			t.Fatalf("send %d: %v", id, err)
		}
	}
}

func (b *ladderBundle) emails(t *testing.T, batch string) []store.FaultyEmail {
	t.Helper()
	es, err := store.FaultyEmailsByBatch(context.Background(), b.db.Pool, batch)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// client starts a River client working jobs against the bundle's database.
func (b *ladderBundle) client(t *testing.T) *river.Client[pgx.Tx] {
	t.Helper()
	c, err := NewClient(Deps{Pool: b.db.Pool, Logger: b.log, Metrics: b.m, Faulty: FaultyDeps{Ladder: b.deps}}, RoleAll)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		_ = c.Stop(stopCtx)
		cancel()
	})
	return c
}

// waitState waits until every email of the database is in one of states.
func (b *ladderBundle) waitState(t *testing.T, want int, states ...string) []store.FaultyEmail {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		rows, _ := b.db.Pool.Query(context.Background(), `SELECT id FROM faulty_emails ORDER BY id`)
		ids, _ := pgx.CollectRows(rows, pgx.RowTo[int64])
		var all []store.FaultyEmail
		done := len(ids) == want
		for _, id := range ids {
			e, err := store.FaultyEmailByID(context.Background(), b.db.Pool, id)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, e)
			if !slices.Contains(states, e.State) {
				done = false
			}
		}
		if done {
			return all
		}
		if time.Now().After(deadline) {
			for _, e := range all {
				t.Logf("email %d %s attempts=%d err=%s", e.ID, e.State, e.Attempts, e.LastError)
			}
			t.Fatalf("timed out waiting for %d emails in %v", want, states)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestFaultyOutboxTemporaryFailureRetriedAndDeliveredOnce(t *testing.T) {
	t.Parallel()
	b := ladderSetup(t, ladderOpts{})
	b.smtp.Queue(devstack.AtRcpt, devstack.Reply(451, "4.3.0 try again later"))
	c := b.client(t)
	if _, err := c.Insert(context.Background(), FaultyTickArgs{}, nil); err != nil {
		t.Fatal(err)
	}
	es := b.waitState(t, 1, store.EmailSent)
	if es[0].Attempts != 2 || es[0].Level != "notification" || !strings.HasPrefix(es[0].ServerReply, "250") {
		t.Errorf("email = attempts %d level %s reply %q; want 2 attempts, notification, a 250 reply", es[0].Attempts, es[0].Level, es[0].ServerReply)
	}
	if got := b.smtp.CountByMessageID(); len(got) != 1 || got[es[0].MessageID] != 1 {
		t.Errorf("messages received per Message-ID = %v; want exactly one of %s", got, es[0].MessageID)
	}
}

func TestFaultyOutboxPermanentRejectionFails(t *testing.T) {
	t.Parallel()
	b := ladderSetup(t, ladderOpts{})
	b.smtp.Queue(devstack.AtRcpt, devstack.Reply(550, "5.1.1 no such mailbox"))
	b.tick(t, onNotify)
	b.sendPending(t)
	e := b.emails(t, b.ids[0])[0]
	if e.State != store.EmailFailed || e.Attempts != 1 || !strings.Contains(e.LastError, "550") {
		t.Errorf("email = %s attempts %d error %q; want failed after 1 attempt with the 550", e.State, e.Attempts, e.LastError)
	}
	if n := len(b.smtp.Messages()); n != 0 {
		t.Errorf("server received %d messages; want 0", n)
	}
	// A later attempt (a duplicate job) leaves it failed and sends nothing.
	b.sendPending(t)
	if _, err := SendFaultyEmail(context.Background(), b.db.Pool, b.deps, nil, e.ID, false, "system:test"); err != nil {
		t.Fatal(err)
	}
	if e2 := b.emails(t, b.ids[0])[0]; e2.State != store.EmailFailed || e2.Attempts != 1 {
		t.Errorf("after another attempt: %s, %d attempts; want failed, 1", e2.State, e2.Attempts)
	}
}

func TestFaultyOutboxDroppedAfterBodyIsUnknownAndNotResent(t *testing.T) {
	t.Parallel()
	b := ladderSetup(t, ladderOpts{})
	b.smtp.Queue(devstack.AtData, devstack.Drop())
	c := b.client(t)
	if _, err := c.Insert(context.Background(), FaultyTickArgs{}, nil); err != nil {
		t.Fatal(err)
	}
	es := b.waitState(t, 1, store.EmailUnknown, store.EmailSent, store.EmailFailed)
	if es[0].State != store.EmailUnknown {
		t.Fatalf("state = %s (%s); want unknown", es[0].State, es[0].LastError)
	}
	// Another attempt (a retried or duplicate job) must not resend it.
	res, err := SendFaultyEmail(context.Background(), b.db.Pool, b.deps, nil, es[0].ID, false, "system:test")
	if err != nil || res.State != store.EmailUnknown {
		t.Fatalf("second attempt = %+v, %v; want unknown, nil", res, err)
	}
	if got := b.smtp.CountByMessageID()[es[0].MessageID]; got != 1 {
		t.Errorf("server has %d copies of %s; want 1", got, es[0].MessageID)
	}
	if n := len(b.smtp.Messages()); n != 1 {
		t.Errorf("server received %d messages; want 1", n)
	}
}

func TestFaultyOutboxFoundSendingBecomesUnknown(t *testing.T) {
	t.Parallel()
	b := ladderSetup(t, ladderOpts{})
	b.tick(t, onNotify)
	e := b.emails(t, b.ids[0])[0]
	// The process died after committing sending, before the SMTP reply.
	if _, err := b.db.Pool.Exec(context.Background(), `UPDATE faulty_emails SET state = 'sending', attempts = 1 WHERE id = $1`, e.ID); err != nil {
		t.Fatal(err)
	}
	c := b.client(t)
	if _, err := c.Insert(context.Background(), FaultySendArgs{EmailID: e.ID}, nil); err != nil {
		t.Fatal(err)
	}
	es := b.waitState(t, 1, store.EmailUnknown)
	if es[0].Attempts != 1 || !strings.Contains(es[0].LastError, "Not resent") {
		t.Errorf("email = attempts %d error %q; want 1 and the explanation", es[0].Attempts, es[0].LastError)
	}
	if n := len(b.smtp.Messages()); n != 0 {
		t.Errorf("server received %d messages; want 0", n)
	}
	ev, err := store.ListAudit(context.Background(), b.db.Pool, store.AuditFilter{Action: "faulty.email_unknown"})
	if err != nil || len(ev) != 1 {
		t.Errorf("unknown audit events = %d, %v; want 1", len(ev), err)
	}
}

func TestFaultyTickTwoProcessesSendEveryEmailOnce(t *testing.T) {
	t.Parallel()
	b := ladderSetup(t, ladderOpts{batches: 6, items: 2})
	c1, c2 := b.client(t), b.client(t)
	var wg sync.WaitGroup
	for _, c := range []*river.Client[pgx.Tx]{c1, c2, c1, c2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Insert(context.Background(), FaultyTickArgs{}, nil); err != nil {
				t.Error(err)
			}
		}()
		// And the same tick run directly, as `recondesk faulty tick` does.
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := RunFaultyTick(context.Background(), TickRun{Pool: b.db.Pool, Client: c, Ladder: b.deps, Actor: "system:test"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	es := b.waitState(t, 6, store.EmailSent)
	counts := b.smtp.CountByMessageID()
	if len(counts) != 6 {
		t.Errorf("server received %d distinct Message-IDs; want 6", len(counts))
	}
	for _, e := range es {
		if counts[e.MessageID] != 1 || e.Seq != 1 || e.StepKey != "notification" {
			t.Errorf("email %s: received %d times, seq %d, step %s; want once, 1, notification", e.MessageID, counts[e.MessageID], e.Seq, e.StepKey)
		}
	}
	// Waiting for idle jobs: a late tick decides nothing more.
	if res := b.tick(t, onNotify.Add(time.Hour)); res.Decided != 0 {
		t.Errorf("a later tick decided %d emails; want 0", res.Decided)
	}
}

func TestFaultyThreadHeadersChain(t *testing.T) {
	t.Parallel()
	b := ladderSetup(t, ladderOpts{items: 25})
	for _, now := range []time.Time{onNotify, onRemind, onFinal} {
		res := b.tick(t, now)
		if res.Decided != 1 {
			t.Fatalf("tick at %s decided %d; want 1", now, res.Decided)
		}
		b.sendPending(t)
	}
	msgs := b.smtp.Messages()
	if len(msgs) != 3 {
		t.Fatalf("received %d messages; want 3", len(msgs))
	}
	var parsed []*mail.Parsed
	for _, m := range msgs {
		p, err := mail.Parse(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, p)
	}
	slices.SortFunc(parsed, func(a, b *mail.Parsed) int { return strings.Compare(a.MessageID, b.MessageID) })
	subject := "[Faulty bookings] Partner 1 (DE*T1) 2026-01 [RD-2026-01-DE*T1]"
	var refs []string
	var prevIndex []byte
	for i, p := range parsed {
		if want := mail.MessageID(b.ids[0], i+1, "recondesk.test"); p.MessageID != want {
			t.Errorf("message %d Message-ID = %s; want %s", i+1, p.MessageID, want)
		}
		wantSubject := subject
		if i > 0 {
			wantSubject = "Re: " + subject
			if p.InReplyTo != parsed[i-1].MessageID {
				t.Errorf("message %d In-Reply-To = %s; want %s", i+1, p.InReplyTo, parsed[i-1].MessageID)
			}
		}
		if p.Subject != wantSubject || p.ThreadTopic != subject {
			t.Errorf("message %d subject %q topic %q; want %q, %q", i+1, p.Subject, p.ThreadTopic, wantSubject, subject)
		}
		if p.References != strings.Join(refs, " ") {
			t.Errorf("message %d References = %q; want %q", i+1, p.References, strings.Join(refs, " "))
		}
		refs = append(refs, p.MessageID)
		ti, err := mail.ParseThreadIndex(p.ThreadIndex)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := base64.StdEncoding.DecodeString(p.ThreadIndex)
		if len(ti.Replies) != i || len(raw) != 22+5*i || (i > 0 && !bytes.HasPrefix(raw, prevIndex)) {
			t.Errorf("message %d Thread-Index has %d replies (%d bytes); want %d (%d bytes) extending the previous one", i+1, len(ti.Replies), len(raw), i, 22+5*i)
		}
		prevIndex = raw
		if p.Header.Get("Auto-Submitted") != "auto-generated" || p.Header.Get("X-Auto-Response-Suppress") == "" {
			t.Errorf("message %d lacks the auto-reply headers", i+1)
		}
		// Each email carries the version regenerated just before it (v1 is the fixture's).
		wantName := fmt.Sprintf("Faulty bookings DE-T1 2026-01 v%d.xlsx", i+2)
		if len(p.Attachments) != 1 || p.Attachments[0].Name != wantName {
			t.Errorf("message %d attachments = %d; want %s", i+1, len(p.Attachments), wantName)
		} else if wb, err := excelize.OpenReader(bytes.NewReader(p.Attachments[0].Data)); err != nil {
			t.Errorf("message %d attachment is not a workbook: %v", i+1, err)
		} else if rows, _ := wb.GetRows(masterfile.SheetTracking); len(rows) < i+2 {
			t.Errorf("message %d: Tracking sheet has %d rows; want the header, the %d earlier emails and this one", i+1, len(rows), i)
		} else {
			// The file lists the email it travels with, after the earlier ones.
			if r := rows[i+1]; len(r) < 6 || r[0] != strconv.Itoa(i+1) || r[2] != p.MessageID || r[3] != "this email" || r[5] != strings.Join(p.To, ", ") {
				t.Errorf("message %d: Tracking row %d = %q; want this email %s", i+1, i+1, r, p.MessageID)
			}
			// Each earlier email of the thread: level, Message-ID, state, sent at (a date cell), recipients.
			for j := 1; j <= i; j++ {
				prev := parsed[j-1]
				if r := rows[j]; len(r) < 6 || r[2] != prev.MessageID || r[3] != "sent" || r[5] != strings.Join(prev.To, ", ") {
					t.Errorf("message %d: Tracking row %d = %q; want %s sent to %v", i+1, j, r, prev.MessageID, prev.To)
				}
				raw, _ := wb.GetCellValue(masterfile.SheetTracking, fmt.Sprintf("E%d", j+1), excelize.Options{RawCellValue: true})
				if _, err := strconv.ParseFloat(raw, 64); err != nil {
					t.Errorf("message %d: Tracking sent at %q is not a date cell", i+1, raw)
				}
			}
			if panes, err := wb.GetPanes(masterfile.SheetBookings); err != nil || !panes.Freeze || panes.YSplit != 1 {
				t.Errorf("message %d: Bookings panes = %+v; want the header frozen", i+1, panes)
			}
		}
		if strings.Count(p.Text, "  station Station ") != 20 || !strings.Contains(p.Text, "… and 5 more") {
			t.Errorf("message %d text lists %d bookings; want the first 20 and '… and 5 more'", i+1, strings.Count(p.Text, "  station Station "))
		}
		if strings.Contains(p.Subject, "Reminder") || strings.Contains(p.Subject, "Notification") {
			t.Errorf("message %d subject names the level: %q", i+1, p.Subject)
		}
	}
	for i, want := range []string{"Notification", "Reminder", "Final reminder"} {
		if !strings.HasPrefix(parsed[i].Text, want+"\n") || !strings.Contains(parsed[i].HTML, "<strong>"+want+"</strong>") {
			t.Errorf("message %d does not open with %q", i+1, want)
		}
	}
	if len(parsed[0].Cc) != 1 || len(parsed[2].Cc) != 2 || !strings.Contains(strings.Join(parsed[2].Cc, ","), "boss1@partner.test") {
		t.Errorf("Cc = %v / %v; want the billing address, and the escalation contact on the final reminder", parsed[0].Cc, parsed[2].Cc)
	}
}

func TestFaultyTickDowntimeSendsOnlyTheHighestLevel(t *testing.T) {
	t.Parallel()
	b := ladderSetup(t, ladderOpts{})
	res := b.tick(t, onFinal.Add(2*time.Hour))
	if res.Decided != 1 || len(res.Batches) != 1 {
		t.Fatalf("decided %d in %d batches; want 1 in 1", res.Decided, len(res.Batches))
	}
	var outcomes []string
	for _, s := range res.Batches[0].Steps {
		outcomes = append(outcomes, string(s.Level)+":"+s.Outcome)
	}
	if want := []string{"final_reminder:decided", "reminder:skipped", "notification:skipped"}; !slices.Equal(outcomes, want) {
		t.Errorf("steps = %v; want %v", outcomes, want)
	}
	es := b.emails(t, b.ids[0])
	if len(es) != 1 || es[0].Level != "final_reminder" || es[0].Seq != 1 || !slices.Contains(es[0].Cc, "boss1@partner.test") {
		t.Fatalf("emails = %+v; want one final reminder, seq 1, escalation in CC", es)
	}
	ev, _ := store.ListAudit(context.Background(), b.db.Pool, store.AuditFilter{Action: "faulty.step_skipped"})
	if len(ev) != 2 {
		t.Errorf("skipped-step audit events = %d; want 2", len(ev))
	}
	if res := b.tick(t, onFinal.Add(3*time.Hour)); res.Decided != 0 {
		t.Errorf("second tick decided %d; want 0", res.Decided)
	}
}

func TestFaultyTickClosingAfterLastItemResolves(t *testing.T) {
	t.Parallel()
	b := ladderSetup(t, ladderOpts{items: 2})
	b.tick(t, onNotify)
	b.sendPending(t)
	// Nothing is due before the reminder day.
	if res := b.tick(t, onNotify.Add(24*time.Hour)); res.Decided != 0 {
		t.Fatalf("tick the day after decided %d; want 0", res.Decided)
	}
	err := store.InTx(context.Background(), b.db.Pool, func(tx pgx.Tx) error {
		n, err := store.ResolveItems(context.Background(), tx, b.ids[0], nil, store.ResolvedManual, "partner sent the CDRs", "user:1")
		if n != 2 {
			t.Errorf("resolved %d items; want 2", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	res := b.tick(t, onNotify.Add(49*time.Hour))
	if res.Decided != 1 || res.Batches[0].Steps[0].Level != faulty.LevelClosing || res.Batches[0].State != faulty.BatchResolved {
		t.Fatalf("tick = %+v; want one closing email and state resolved", res)
	}
	b.sendPending(t)
	es := b.emails(t, b.ids[0])
	if len(es) != 2 || es[1].StepKey != "closing" || es[1].State != store.EmailSent || !strings.HasPrefix(es[1].BodyText, "Resolved\n") {
		t.Fatalf("emails = %d, last %s %s; want the closing message sent", len(es), es[len(es)-1].StepKey, es[len(es)-1].State)
	}
	// Resolved and closed: nothing more, not even on the reminder day.
	if res := b.tick(t, onFinal); res.Decided != 0 || res.Evaluated != 0 {
		t.Errorf("tick after closing evaluated %d and decided %d; want 0, 0", res.Evaluated, res.Decided)
	}
}

func TestFaultyReEscalationAddsMessageWithEscalationCC(t *testing.T) {
	t.Parallel()
	b := ladderSetup(t, ladderOpts{})
	b.tick(t, onNotify)
	b.sendPending(t)
	if _, err := EscalateBatch(context.Background(), EscalateRun{Pool: b.db.Pool, Ladder: b.deps, BatchID: b.ids[0], Actor: "user:1"}); err == nil {
		t.Fatal("escalating without a note worked; want an error")
	}
	e, err := EscalateBatch(context.Background(), EscalateRun{Pool: b.db.Pool, Ladder: b.deps, BatchID: b.ids[0], Note: "Call us today.",
		Actor: "user:1", Now: onNotify.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if e.StepKey != "re_escalation:1" || e.Seq != 2 || !slices.Contains(e.Cc, "boss1@partner.test") || !strings.Contains(e.BodyText, "Call us today.") ||
		!strings.HasPrefix(e.BodyText, "Re-escalation 1\n") {
		t.Errorf("re-escalation = %s seq %d cc %v; want re_escalation:1, seq 2, escalation in CC, the note in the body", e.StepKey, e.Seq, e.Cc)
	}
	b.sendPending(t)
	msgs := b.smtp.Messages()
	if len(msgs) != 2 {
		t.Fatalf("received %d; want 2", len(msgs))
	}
	p, _ := mail.Parse(msgs[1].Data)
	if p.InReplyTo != mail.MessageID(b.ids[0], 1, "recondesk.test") || !slices.Contains(p.Cc, "boss1@partner.test") {
		t.Errorf("re-escalation In-Reply-To %s Cc %v", p.InReplyTo, p.Cc)
	}
	// A second one numbers 2; the ladder continues after it (reminder on the 21st, seq 4).
	if _, err := EscalateBatch(context.Background(), EscalateRun{Pool: b.db.Pool, Ladder: b.deps, BatchID: b.ids[0], Note: "Again.", Actor: "user:1", Now: onNotify.Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	b.tick(t, onRemind)
	es := b.emails(t, b.ids[0])
	var keys []string
	for _, e := range es {
		keys = append(keys, e.StepKey)
	}
	if want := []string{"notification", "re_escalation:1", "re_escalation:2", "reminder"}; !slices.Equal(keys, want) {
		t.Errorf("thread = %v; want %v", keys, want)
	}
}

func TestFaultyStaffActionsOnUnknownEmail(t *testing.T) {
	t.Parallel()
	b := ladderSetup(t, ladderOpts{})
	b.smtp.Queue(devstack.AtData, devstack.Drop())
	b.tick(t, onNotify)
	b.sendPending(t)
	e := b.emails(t, b.ids[0])[0]
	if e.State != store.EmailUnknown {
		t.Fatalf("state = %s; want unknown", e.State)
	}
	ctx := context.Background()
	// Resend: same Message-ID again, deliberately.
	err := store.InTx(ctx, b.db.Pool, func(tx pgx.Tx) error {
		_, _, err := store.ResendFaultyEmail(ctx, tx, e.ID, "partner did not get it", onNotify)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b.sendPending(t)
	if got := b.smtp.CountByMessageID()[e.MessageID]; got != 2 {
		t.Errorf("copies of %s = %d; want 2 after a deliberate resend", e.MessageID, got)
	}
	if e2 := b.emails(t, b.ids[0])[0]; e2.State != store.EmailSent || e2.Attempts != 2 {
		t.Errorf("after resend: %s, %d attempts; want sent, 2", e2.State, e2.Attempts)
	}
	// Mark sent is refused on a sent email and needs a note.
	err = store.InTx(ctx, b.db.Pool, func(tx pgx.Tx) error {
		_, _, err := store.MarkFaultyEmailSent(ctx, tx, e.ID, "confirmed", onNotify)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "only an email whose outcome is unknown") {
		t.Errorf("mark sent on a sent email = %v; want a conflict", err)
	}
}
