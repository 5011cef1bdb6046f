package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"recondesk/internal/auth"
	"recondesk/internal/browsertest"
	"recondesk/internal/jobs"
	"recondesk/internal/metrics"
)

// TestBrowserAssignFailureIsPostedToLedger opens the failures queue in
// Chromium, assigns an unmatched toll to a lease and driver, and sees it
// posted by the automatic posting job on the driver's ledger balance.
func TestBrowserAssignFailureIsPostedToLedger(t *testing.T) {
	t.Parallel()
	b := setup(t)
	matchFixture(t, b)
	toll := addToll(t, b, "9999", nyAt(3, 1, 8, 0), 1706)
	runAssociation(t, b)
	// A worker process with auto-posting, beside the server's insert-only client.
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	worker, err := jobs.NewClient(jobs.Deps{Pool: b.db.Pool, Logger: log, Metrics: metrics.New(), EZPass: jobs.EZPassDeps{AutoPost: true}}, jobs.RoleAll)
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

	bctx := browsertest.New(t, 90*time.Second)
	if err := browsertest.Login(bctx, b.srv.URL, string(auth.Finance)+"@example.com", testPassword); err != nil {
		t.Fatal(err)
	}
	row := fmt.Sprintf(`[data-testid="failure-%d"]`, toll)
	steps := []struct {
		name string
		acts []chromedp.Action[chromedp.Void]
	}{
		{"open the queue", []chromedp.Action[chromedp.Void]{chromedp.Navigate(b.srv.URL + "/ezpass/failures"), chromedp.WaitVisible(chromedp.CSS(row))}},
		{"open Assign", []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS(row + ` [data-testid="assign-link"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="lease-search"]`))}},
		{"search the lease", []chromedp.Action[chromedp.Void]{chromedp.SendKeys(chromedp.CSS(`[data-testid="lease-search"]`), "1HGCM82633A000001\n"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="choice-LB-5000002"]`))}},
		{"choose and submit", []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS(`[data-testid="choice-LB-5000002"]`)),
			chromedp.SendKeys(chromedp.CSS(`[data-testid="assign-reason"]`), "Tag was not on file"),
			chromedp.Click(chromedp.CSS(`[data-testid="assign-submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="flash"]`))}},
	}
	for _, st := range steps {
		sctx, cancel := context.WithTimeout(bctx, 15*time.Second)
		err := chromedp.Do(sctx, st.acts...)
		cancel()
		if err != nil {
			html, _ := chromedp.Run(bctx, chromedp.OuterHTML(chromedp.CSS("main")))
			t.Fatalf("%s: %v\n%s", st.name, err, html)
		}
	}
	flashText, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`[data-testid="flash"]`)))
	if err != nil || !strings.Contains(flashText, "1 toll(s) assigned") {
		t.Fatalf("flash = %q, %v", flashText, err)
	}
	bob := driverIDOf(t, b, "5000002")
	cell := fmt.Sprintf(`[data-testid="balance-%d"] [data-testid="balance-amount"]`, bob)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := chromedp.Do(bctx, chromedp.Navigate(b.srv.URL+"/ledger"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="ledger-balances"]`))); err != nil {
			t.Fatal(err)
		}
		n, _ := chromedp.Run(bctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, cell)))
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			s, m, _ := txnStatus(t, b, toll)
			t.Fatalf("Bob's balance never appeared on the Ledger page (toll %s, %s)", s, m)
		}
		time.Sleep(300 * time.Millisecond)
	}
	amount, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(cell)))
	if err != nil || amount != "$17.06" {
		t.Fatalf("Bob's balance = %q, %v; want $17.06", amount, err)
	}
	if s, m, _ := txnStatus(t, b, toll); s != "posted" || m != "manual" {
		t.Fatalf("toll = %s %s; want posted manual", s, m)
	}
}
