package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"recondesk/internal/app"
	"recondesk/internal/auth"
	"recondesk/internal/devstack"
	"recondesk/internal/jobs"
	rdmail "recondesk/internal/mail"
	"recondesk/internal/store"
)

// inboxMatrix lists the partner-reply routes (handle_inbox.go).
var inboxMatrix = []access{
	{"GET", "/inbox/unmatched", auth.Viewer, false},
	{"GET", "/disputes", auth.Viewer, false},
	{"GET", "/inbox/messages/{id}/attachments/{att}", auth.Finance, false},
	{"POST", "/inbox/messages/{id}/attach", auth.Finance, false},
	{"POST", "/inbox/poll", auth.Finance, false},
	{"POST", "/disputes/{id}/accept", auth.Finance, false},
	{"POST", "/disputes/{id}/reject", auth.Finance, false},
	{"POST", "/faulty/batches/{id}/reply", auth.Finance, false},
}

// inboxWorld is two notified batches and the partners' replies read from
// a real in-process IMAP server: batch 0 got a human reply and its master
// file back (Paid, Disputed, an unknown booking); batch 1's mail bounced;
// one message matched nothing.
type inboxWorld struct {
	ids  []string
	refs []string // batch 0's bookings
}

func inboxFixture(t *testing.T, b *bundle) inboxWorld {
	t.Helper()
	ctx := context.Background()
	_, ids := faultyFixture(t, b, 2, 3)
	lad := ladder(b.deps)
	lad.MasterFile = nil // a real master file, with the response columns
	if _, err := jobs.RunFaultyTick(ctx, jobs.TickRun{Pool: b.db.Pool, Ladder: lad, Now: time.Now(), Actor: "system:test"}); err != nil {
		t.Fatal(err)
	}
	srv, err := devstack.StartIMAP(devstack.IMAPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	raw := func(batch string) []byte {
		es := emailsOf(t, b, batch)
		msg, err := jobs.BuildFaultyMessage(ctx, b.db.Pool, "finance@recondesk.test", es[0])
		if err != nil {
			t.Fatal(err)
		}
		r, err := rdmail.Render(msg, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	items, err := store.LadderItems(ctx, b.db.Pool, ids[0], store.LadderItemFilter{})
	if err != nil {
		t.Fatal(err)
	}
	w := inboxWorld{ids: ids}
	for _, it := range items {
		w.refs = append(w.refs, it.AuthRef)
	}
	deliver := func(kind devstack.ReplyKind, batch string, o devstack.ReplyOptions) {
		r, err := devstack.BuildReply(kind, raw(batch), o)
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Deliver(r); err != nil {
			t.Fatal(err)
		}
	}
	deliver(devstack.ReplyHuman, ids[0], devstack.ReplyOptions{MessageID: "<ack@p1.test>", Text: "We are checking the sessions."})
	deliver(devstack.ReplyReturnedFile, ids[0], devstack.ReplyOptions{MessageID: "<file@p1.test>", Rows: []devstack.ReturnedRow{
		{AuthRef: w.refs[0], Response: "Paid", Note: "paid on the 3rd"},
		{AuthRef: w.refs[1], Response: "Disputed", Note: "no such session"},
		{AuthRef: "NOT-OURS-9", Response: "Paid"},
	}})
	deliver(devstack.ReplyBounce, ids[1], devstack.ReplyOptions{MessageID: "<bounce@p2.test>"})
	if err := srv.Deliver([]byte("From: stranger@else.test\r\nSubject: hello\r\nMessage-ID: <stray@else.test>\r\n\r\nWho are you?\r\n")); err != nil {
		t.Fatal(err)
	}
	cfg := b.deps.Config
	cfg.IMAPURL = srv.URL()
	a := app.New(app.Deps{Pool: b.db.Pool, Config: cfg, Logger: slog.New(slog.DiscardHandler)})
	res, err := a.PollInbox(ctx, app.System("test"))
	if err != nil || res.Stored != 4 {
		t.Fatalf("poll = %+v, %v", res, err)
	}
	return w
}

func TestInboxPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := inboxFixture(t, b)
	viewer, finance, admin := b.login(t, auth.Viewer), b.login(t, auth.Finance), b.login(t, auth.Admin)

	resp, body := b.get(t, viewer, "/faulty/batches/"+w.ids[0])
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("batch page = %d", resp.StatusCode)
	}
	mustContain(t, body, `data-testid="conversation-theirs" data-kind="human"`, "We are checking the sessions.",
		`data-testid="partner-response" data-ref="`+w.refs[0]+`" data-response="paid"`,
		`data-testid="partner-response" data-ref="`+w.refs[1]+`" data-response="disputed"`,
		`data-testid="dispute" data-state="open"`, "NOT-OURS-9 is not in this batch", `data-testid="partner-responded"`,
		`data-step="Partner responded"`, "returned.xlsx")
	for _, absent := range []string{`data-testid="dispute-accept"`, `data-testid="reply-form"`, `data-testid="bounce-notice"`} {
		if strings.Contains(body, absent) {
			t.Errorf("viewer's batch page shows %s", absent)
		}
	}
	_, body = b.get(t, finance, "/faulty/batches/"+w.ids[0])
	mustContain(t, body, `data-testid="dispute-accept"`, `data-testid="dispute-reject"`, `data-testid="reply-form"`)
	_, body = b.get(t, viewer, "/faulty/batches/"+w.ids[1])
	mustContain(t, body, `data-testid="bounce-notice"`, "ops2@partner.test", `data-kind="bounce"`)

	resp, body = b.get(t, viewer, "/inbox/unmatched")
	if resp.StatusCode != http.StatusOK || strings.Count(body, `data-testid="unmatched-message"`) != 1 || strings.Contains(body, `data-testid="attach-form"`) {
		t.Errorf("unmatched queue for a viewer = %d:\n%s", resp.StatusCode, body)
	}
	_, frag := b.get(t, viewer, "/inbox/unmatched", "HX-Request", "true")
	if strings.Contains(frag, "<html") || !strings.Contains(frag, `data-testid="unmatched"`) {
		t.Errorf("htmx request did not get the fragment")
	}
	_, body = b.get(t, viewer, "/disputes")
	mustContain(t, body, `data-testid="disputes-page"`, w.refs[1], "no such session")
	_, body = b.get(t, admin, "/admin/partners")
	mustContain(t, body, `data-testid="partner-failing"`, "Bounced: ops2@partner.test")

	// Attachments: a download for finance, never rendered; not for viewers.
	ms, _ := store.ListInbound(context.Background(), b.db.Pool, store.InboundFilter{BatchID: w.ids[0]})
	var path string
	for _, m := range ms {
		for _, a := range m.Attachments {
			path = "/inbox/messages/" + itoa(m.ID) + "/attachments/" + itoa(a.ID)
		}
	}
	resp, body = b.get(t, finance, path)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") || !strings.HasPrefix(body, "PK") {
		t.Errorf("attachment download = %d %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}
	if resp, _ := b.get(t, viewer, path); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer attachment download = %d, want 403", resp.StatusCode)
	}
}

func TestInboxActions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := inboxFixture(t, b)
	ctx := context.Background()
	finance := b.login(t, auth.Finance)
	ds, _ := store.ListDisputes(ctx, b.db.Pool, store.DisputeFilter{State: "open"})
	if len(ds) != 1 {
		t.Fatalf("open disputes = %+v", ds)
	}
	back := "/faulty/batches/" + w.ids[0]
	// A rejection needs a note: back to the page with the reason, the dispute still open.
	resp := b.post(t, finance, "/disputes/"+itoa(ds[0].ID)+"/reject", url.Values{"back": {back}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != back {
		t.Errorf("reject without a note = %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp = b.post(t, finance, "/disputes/"+itoa(ds[0].ID)+"/reject", url.Values{"back": {back}, "note": {"Our CDR shows the session."}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("reject = %d", resp.StatusCode)
	}
	if d, _ := store.ListDisputes(ctx, b.db.Pool, store.DisputeFilter{ID: ds[0].ID}); len(d) != 1 || d[0].State != "rejected" {
		t.Errorf("dispute after reject = %+v", d)
	}
	_, body := b.get(t, finance, back)
	mustContain(t, body, `data-testid="pending-notes"`, "Our CDR shows the session.")

	// Attach the stray message to batch 1.
	q, _ := store.ListInbound(ctx, b.db.Pool, store.InboundFilter{Unmatched: true})
	resp = b.post(t, finance, "/inbox/messages/"+itoa(q[0].ID)+"/attach", url.Values{"batch_id": {w.ids[1]}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/faulty/batches/"+w.ids[1] {
		t.Errorf("attach = %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if q, _ := store.ListInbound(ctx, b.db.Pool, store.InboundFilter{Unmatched: true}); len(q) != 0 {
		t.Errorf("unmatched queue after attach = %d messages", len(q))
	}
	// A reply from the batch page goes through the outbox in the thread.
	resp = b.post(t, finance, back+"/reply", url.Values{"text": {"Thanks, we will check."}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("reply = %d", resp.StatusCode)
	}
	es := emailsOf(t, b, w.ids[0])
	last := es[len(es)-1]
	if last.Level != "reply" || last.BodyText != "Thanks, we will check." || last.Seq != len(es) || !strings.HasPrefix(last.Subject, "Re: ") {
		t.Errorf("reply email = %+v", last)
	}
	// Polling needs IMAP_URL: a clear refusal, not an error page.
	resp = b.post(t, finance, "/inbox/poll", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("poll without IMAP_URL = %d", resp.StatusCode)
	}
}
