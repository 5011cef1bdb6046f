package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"recondesk/internal/auth"
	"recondesk/internal/browsertest"
	"recondesk/internal/devstack"
	"recondesk/internal/jobs"
	rdmail "recondesk/internal/mail"
	"recondesk/internal/metrics"
	"recondesk/internal/store"
)

// TestBrowserFaultyReEscalateResolveDownload opens a notified batch in
// Chromium, re-escalates it with a note, sees the new message in the thread
// and in Admin → Mailbox (delivered by a worker through the in-process SMTP
// server), resolves the batch and downloads its master file.
func TestBrowserFaultyReEscalateResolveDownload(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, ids := faultyFixture(t, b, 1, 3)
	id := ids[0]

	// The SMTP sink of `dev`: every message lands in Admin → Mailbox.
	smtp, err := devstack.StartSMTP(devstack.SMTPOptions{OnMessage: func(m devstack.Received) error {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			return err
		}
		_, err = store.InsertMailboxMessage(context.Background(), b.db.Pool, store.MailboxMessage{From: m.From, To: m.To,
			MessageID: strings.TrimSpace(msg.Header.Get("Message-Id")), Subject: msg.Header.Get("Subject"), Raw: m.Data})
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { smtp.Close() })
	sender, err := rdmail.NewSender(smtp.URL(), rdmail.SenderOptions{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	lad := ladder(b.deps)
	lad.Sender = sender
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	worker, err := jobs.NewClient(jobs.Deps{Pool: b.db.Pool, Logger: log, Metrics: metrics.New(), Faulty: jobs.FaultyDeps{Ladder: lad}}, jobs.RoleAll)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		cancel()
		stop, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		_ = worker.Stop(stop)
	})
	if err := worker.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// The scheduled tick has decided the (final) reminder already.
	if _, err := jobs.RunFaultyTick(ctx, jobs.TickRun{Pool: b.db.Pool, Client: b.deps.River, Ladder: lad, Now: time.Now(), Actor: "system:test"}); err != nil {
		t.Fatal(err)
	}

	bctx := browsertest.New(t, 90*time.Second)
	if err := browsertest.Login(bctx, b.srv.URL, string(auth.Admin)+"@example.com", testPassword); err != nil {
		t.Fatal(err)
	}
	do := func(name string, acts ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, c := context.WithTimeout(bctx, 20*time.Second)
		defer c()
		if err := chromedp.Do(sctx, acts...); err != nil {
			html, _ := chromedp.Run(bctx, chromedp.OuterHTML(chromedp.CSS("main")))
			t.Fatalf("%s: %v\n%s", name, err, html)
		}
	}
	count := func(sel string) int {
		n, _ := chromedp.Run(bctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
		return n
	}
	// waitFor reloads url until sel matches want nodes.
	waitFor := func(url, sel string, want int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			do("open "+url, chromedp.Navigate(b.srv.URL+url), chromedp.WaitVisible(chromedp.CSS("main")))
			if count(sel) == want {
				return
			}
			if time.Now().After(deadline) {
				html, _ := chromedp.Run(bctx, chromedp.OuterHTML(chromedp.CSS("main")))
				t.Fatalf("%s never showed %d × %s\n%s", url, want, sel, html)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}

	page := "/faulty/batches/" + id
	waitFor(page, `[data-testid="thread-email"][data-state="sent"]`, 1)
	if n := count(`[data-testid="timeline-step"]`); n < 7 {
		t.Errorf("timeline shows %d steps; want the phases, ladder, monitoring and closing", n)
	}
	if n := count(`[data-testid="timeline-step"][data-state="done"]`); n < 4 {
		t.Errorf("timeline has %d done steps; want at least ingestion, validation, tracking and the final reminder", n)
	}

	do("re-escalate",
		chromedp.SendKeys(chromedp.CSS(`[data-testid="escalate-note"]`), "Please fix these before Friday."),
		chromedp.Click(chromedp.CSS(`[data-testid="escalate"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="flash"]`)))
	flashText, _ := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`[data-testid="flash"]`)))
	if !strings.Contains(flashText, "Re-escalation queued") {
		t.Errorf("flash = %q", flashText)
	}
	waitFor(page, `[data-testid="thread-email"][data-level="re_escalation"][data-state="sent"]`, 1)
	cc, _ := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`[data-testid="thread-email"][data-level="re_escalation"] [data-testid="email-cc"]`)))
	if !strings.Contains(cc, "boss1@partner.test") {
		t.Errorf("re-escalation Cc = %q; want the escalation contact", cc)
	}

	waitFor("/admin/mailbox", `[data-testid="mailbox-row"]`, 2)
	mailbox, _ := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`[data-testid="mailbox"]`)))
	if !strings.Contains(mailbox, "Re: [Faulty bookings] Partner 1 (DE*T1)") || !strings.Contains(mailbox, rdmail.MessageID(id, 2, b.deps.Config.MailDomain)) {
		t.Errorf("mailbox does not show the re-escalation:\n%s", mailbox)
	}

	do("resolve the batch",
		chromedp.Navigate(b.srv.URL+page),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="resolve-note"]`), "Partner credited every session."),
		chromedp.Click(chromedp.CSS(`[data-testid="resolve-confirm"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="resolve-batch"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="flash"]`)))
	if n := count(`[data-testid="item-row"][data-state="open"]`); n != 0 {
		t.Errorf("%d items still open after resolving the batch", n)
	}
	if n := count(`[data-testid="thread-email"][data-level="closing"]`); n != 1 {
		t.Errorf("thread has %d closing messages; want 1", n)
	}

	// Download the newest master file through the page's link and open the bytes.
	href, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="master-file-download"]').getAttribute('href')`))
	if err != nil || !strings.HasPrefix(href, page+"/master-files/") {
		t.Fatalf("download link = %q, %v", href, err)
	}
	b64, err := chromedp.Run(bctx, chromedp.Evaluate[string](fmt.Sprintf(`fetch(%q).then(r => r.ok ? r.arrayBuffer() : Promise.reject(r.status)).then(buf => {
		let s = ''; new Uint8Array(buf).forEach(c => s += String.fromCharCode(c)); return btoa(s); })`, href), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	raw, _ := base64.StdEncoding.DecodeString(b64)
	wb, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("downloaded master file (%d bytes) is not a workbook: %v", len(raw), err)
	}
	if sheets := wb.GetSheetList(); len(sheets) < 2 {
		t.Errorf("master file sheets = %v", sheets)
	}
}
