package web

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"recondesk/internal/auth"
	"recondesk/internal/browsertest"
	"recondesk/internal/store"
)

// TestBrowserPartnerReplyOnBatch opens a batch in Chromium after the
// partner replied: the reply is in the conversation, the returned file's
// responses show on the bookings, the returned file downloads, and
// rejecting the partner's dispute puts the note in line for the next email.
func TestBrowserPartnerReplyOnBatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := inboxFixture(t, b)

	bctx := browsertest.New(t, 90*time.Second)
	if err := browsertest.Login(bctx, b.srv.URL, string(auth.Finance)+"@example.com", testPassword); err != nil {
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
	text := func(sel string) string {
		s, _ := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		return s
	}
	count := func(sel string) int {
		n, _ := chromedp.Run(bctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
		return n
	}

	page := "/faulty/batches/" + w.ids[0]
	do("open the batch", chromedp.Navigate(b.srv.URL+page), chromedp.WaitVisible(chromedp.CSS(`[data-testid="conversation"]`)))
	if got := text(`[data-testid="conversation-theirs"][data-kind="human"] [data-testid="inbound-text"]`); !strings.Contains(got, "We are checking the sessions.") {
		t.Errorf("conversation shows %q; want the partner's reply", got)
	}
	if n := count(`[data-testid="conversation-ours"]`); n != 1 {
		t.Errorf("conversation shows %d of our emails, want 1", n)
	}
	if got := text(`[data-testid="partner-responded"]`); !strings.Contains(got, "Partner responded") {
		t.Errorf("pause notice = %q", got)
	}
	if n := count(`[data-testid="timeline-step"][data-step="Partner responded"]`); n != 1 {
		t.Errorf("timeline has %d partner-responded steps, want 1", n)
	}
	if got := text(`[data-testid="partner-response"][data-ref="` + w.refs[0] + `"]`); !strings.Contains(got, "Paid") || !strings.Contains(got, "paid on the 3rd") {
		t.Errorf("booking %s shows %q; want Paid with the partner's note", w.refs[0], got)
	}
	if got := text(`[data-testid="inbound-problems"]`); !strings.Contains(got, "NOT-OURS-9 is not in this batch") {
		t.Errorf("problems = %q", got)
	}

	// The returned file downloads through the page's link.
	href, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="inbound-attachment"]').getAttribute('href')`))
	if err != nil {
		t.Fatal(err)
	}
	magic, err := chromedp.Run(bctx, chromedp.Evaluate[string](fmt.Sprintf(`fetch(%q).then(r => r.ok ? r.arrayBuffer() : Promise.reject(r.status)).then(buf => String.fromCharCode(...new Uint8Array(buf).slice(0, 2)))`, href), chromedp.EvalAwaitPromise))
	if err != nil || magic != "PK" {
		t.Errorf("attachment download starts with %q (%v); want an .xlsx", magic, err)
	}

	do("reject the dispute",
		chromedp.SendKeys(chromedp.CSS(`[data-testid="dispute-reject-form"] input[name="note"]`), "Our CDR shows 14 kWh."),
		chromedp.Click(chromedp.CSS(`[data-testid="dispute-reject"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="flash"]`)))
	if got := text(`[data-testid="flash"]`); !strings.Contains(got, "Dispute rejected") {
		t.Errorf("flash = %q", got)
	}
	if n := count(`[data-testid="dispute"][data-state="rejected"]`); n != 1 {
		t.Errorf("%d rejected disputes on the page, want 1", n)
	}
	if got := text(`[data-testid="pending-notes"]`); !strings.Contains(got, "Our CDR shows 14 kWh.") {
		t.Errorf("pending notes = %q", got)
	}
	ds, _ := store.ListDisputes(context.Background(), b.db.Pool, store.DisputeFilter{BatchID: w.ids[0]})
	if len(ds) != 1 || ds[0].State != "rejected" || ds[0].DecidedBy != store.UserActor(b.users[auth.Finance].ID) {
		t.Errorf("stored dispute = %+v", ds)
	}
}
