package web

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"recondesk/internal/auth"
	"recondesk/internal/browsertest"
	"recondesk/internal/jobs"
	"recondesk/internal/store"
)

// axeSource reads the axe-core build installed by npm (package.json's
// devDependencies); without it the test is skipped, except under CI.
func axeSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("axe-core is not installed (npm ci): %v", err)
		}
		t.Skipf("axe-core not installed (npm ci): %v", err)
	}
	return string(b)
}

// uxFixture fills one database with something to show on every page and
// returns the ids the parameterised routes need.
func uxFixture(t *testing.T, b *bundle) map[string]string {
	t.Helper()
	ctx := context.Background()
	matchFixture(t, b)
	posted := addToll(t, b, "1111", nyAt(1, 15, 8, 0), 1706)
	addToll(t, b, "2222", nyAt(3, 1, 8, 0), 650) // NO_ACTIVE_LEASE
	runAssociation(t, b)
	if _, err := jobs.RunPosting(ctx, b.db.Pool, "system:test", "test", b.deps.Metrics); err != nil {
		t.Fatal(err)
	}
	imp := txnFixture(t, b)
	period, batches := faultyFixture(t, b, 1, 3)
	partner, err := store.CreatePartner(ctx, b.db.Pool, store.PartnerInput{PartyID: "DE*VLT", Name: "Voltwerk", To: []string{"ops@voltwerk.example"}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := store.InsertMailboxMessage(ctx, b.db.Pool, store.MailboxMessage{From: "finance@recondesk.test", To: []string{"ops@partner.test"},
		MessageID: "<ux@recondesk.test>", Subject: "Faulty bookings 2026-10",
		Raw: []byte("From: finance@recondesk.test\r\nTo: ops@partner.test\r\nSubject: Faulty bookings 2026-10\r\nMessage-Id: <ux@recondesk.test>\r\n\r\nHello\r\n")})
	if err != nil {
		t.Fatal(err)
	}
	var journal, driver int64
	if err := b.db.Pool.QueryRow(ctx, `SELECT j.id, e.driver_id FROM ledger_journals j JOIN ledger_entries e ON e.journal_id = j.id
		WHERE e.driver_id IS NOT NULL ORDER BY j.id LIMIT 1`).Scan(&journal, &driver); err != nil {
		t.Fatalf("no posted journal in the fixture (toll %d): %v", posted, err)
	}
	return map[string]string{
		"/ezpass/imports/{id}":      fmt.Sprint(imp.ID),
		"/ezpass/transactions/{id}": fmt.Sprint(posted),
		"/ledger/drivers/{id}":      fmt.Sprint(driver),
		"/ledger/journals/{id}":     fmt.Sprint(journal),
		"/faulty/batches/{id}":      batches[0],
		"/faulty/periods/{period}":  period,
		"/admin/partners/{id}":      fmt.Sprint(partner.ID),
		"/admin/mailbox/{id}":       fmt.Sprint(msg),
		"/admin/users/{id}":         fmt.Sprint(b.users[auth.Admin].ID),
	}
}

// uxPages lists every GET page of the route matrix with its ids filled in;
// downloads and htmx polling fragments are not pages.
func uxPages(t *testing.T, ids map[string]string) []string {
	t.Helper()
	var pages []string
	for _, a := range allRoutes() {
		if a.method != "GET" || a.api || a.role == "" {
			continue
		}
		p := a.path
		switch {
		case strings.HasSuffix(p, ".csv"), strings.HasSuffix(p, ".xlsx"), strings.HasSuffix(p, "/file"),
			strings.Contains(p, "/attachments/"), strings.Contains(p, "/master-files/"),
			strings.HasSuffix(p, "/progress"), strings.HasSuffix(p, "/items"), p == "/metrics":
			continue
		}
		if strings.Contains(p, "{") {
			id, ok := ids[p]
			if !ok {
				t.Fatalf("no fixture id for %s: add one to uxFixture", p)
			}
			p = strings.NewReplacer("{id}", id, "{period}", id).Replace(p)
		}
		pages = append(pages, p)
	}
	return append(pages, "/no/such/page") // the 404 page is a page too
}

type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// TestBrowserAxeEveryPage signs in as admin, opens every page and runs
// axe-core on it: no serious or critical violation anywhere.
func TestBrowserAxeEveryPage(t *testing.T) {
	t.Parallel()
	axe := axeSource(t)
	b := setup(t)
	pages := uxPages(t, uxFixture(t, b))
	bctx := browsertest.New(t, 12*time.Minute)
	if err := browsertest.Login(bctx, b.srv.URL, string(auth.Admin)+"@example.com", testPassword); err != nil {
		t.Fatal(err)
	}
	const run = `(async () => {
		const r = await axe.run(document, {resultTypes: ["violations"]});
		return JSON.stringify(r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({
			id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map(n => n.target.join(" "))})));
	})()`
	// The harness can fail: a nameless button on an otherwise good page is critical.
	probe, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector("main").insertAdjacentHTML("beforeend", "<button></button>");`+
		axe+";\n"+run, chromedp.EvalAwaitPromise))
	if err != nil || !strings.Contains(probe, `"button-name"`) {
		t.Fatalf("axe did not report a nameless button: %v %s", err, probe)
	}
	for _, p := range pages {
		pctx, cancel := context.WithTimeout(bctx, 90*time.Second)
		err := chromedp.Do(pctx, chromedp.Navigate(b.srv.URL+p), chromedp.WaitReady(chromedp.CSS("main")))
		var out string
		if err == nil {
			out, err = chromedp.Run(pctx, chromedp.Evaluate[string](axe+";\n"+run, chromedp.EvalAwaitPromise))
		}
		cancel()
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		var vs []axeViolation
		if err := json.Unmarshal([]byte(out), &vs); err != nil {
			t.Fatalf("%s: %v: %s", p, err, out)
		}
		for _, v := range vs {
			t.Errorf("%s: %s %s (%s) at %v", p, v.Impact, v.ID, v.Help, v.Targets)
		}
	}
	if len(pages) < 25 {
		t.Errorf("only %d pages checked; the route matrix has more", len(pages))
	}
}

// TestBrowserNarrowScreen opens Home, Transactions and a batch page at
// 390 px: nothing is wider than the screen, and the main navigation sits
// behind a menu button that opens by keyboard and shows every link.
func TestBrowserNarrowScreen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ids := uxFixture(t, b)
	bctx := browsertest.New(t, 2*time.Minute)
	if err := browsertest.Login(bctx, b.srv.URL, string(auth.Admin)+"@example.com", testPassword); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	eval := func(ctx context.Context, js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	for _, p := range []string{"/", "/ezpass/transactions", "/faulty/batches/" + ids["/faulty/batches/{id}"]} {
		pctx, cancel := context.WithTimeout(bctx, 30*time.Second)
		if err := chromedp.Do(pctx, chromedp.Navigate(b.srv.URL+p), chromedp.WaitReady(chromedp.CSS("main"))); err != nil {
			cancel()
			t.Fatalf("%s: %v", p, err)
		}
		width, err := chromedp.Run(pctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		if width > 390 {
			wide := eval(pctx, `[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > 391).slice(0, 5).map(e => e.tagName + "." + e.className).join(" | ")`)
			t.Errorf("%s is %d px wide at 390 px; widest: %s", p, width, wide)
		}
		if strings.HasPrefix(p, "/faulty/batches/") {
			// The timeline reads top to bottom: a list, not a squeezed SVG.
			got := eval(pctx, `(() => {
				const svg = getComputedStyle(document.querySelector('[data-testid="timeline-svg"]')).display;
				const items = [...document.querySelectorAll('[data-testid="timeline-list"] li')].map(li => li.getBoundingClientRect());
				const vertical = items.length > 1 && items.every((r, i) => i === 0 || r.top >= items[i-1].bottom - 1);
				return svg + " " + items.length + " " + vertical;
			})()`)
			if f := strings.Fields(got); len(f) != 3 || f[0] != "none" || f[2] != "true" {
				t.Errorf("%s: timeline at 390 px: svg display, steps, vertical = %q; want a vertical list", p, got)
			}
		}
		if got := eval(pctx, `String(getComputedStyle(document.getElementById("site-nav")).display)`); got != "none" {
			t.Errorf("%s: the nav is shown (%s) before the menu is opened", p, got)
		}
		// Open the menu by keyboard: focus the button, press Enter.
		if err := chromedp.Do(pctx, chromedp.Focus(chromedp.CSS(`[data-testid="nav-toggle"]`)), chromedp.KeyEvent("\r")); err != nil {
			cancel()
			t.Fatalf("%s: open the menu: %v", p, err)
		}
		if got := eval(pctx, `document.querySelector('[data-testid="nav-toggle"]').getAttribute("aria-expanded")`); got != "true" {
			t.Errorf("%s: aria-expanded = %q after Enter; want true", p, got)
		}
		reach := eval(pctx, `JSON.stringify([...document.querySelectorAll('#site-nav a, #site-nav button')].map(a => {
			const r = a.getBoundingClientRect();
			return (r.width > 0 && r.height > 0 && r.left >= 0 && r.right <= 390) ? "" : (a.textContent.trim() || a.outerHTML);
		}).filter(Boolean))`)
		if reach != "[]" {
			t.Errorf("%s: nav links off-screen or hidden with the menu open: %s", p, reach)
		}
		labels := eval(pctx, `[...document.querySelectorAll('#site-nav nav a')].map(a => a.textContent.trim()).join(",")`)
		for _, want := range []string{"Home", "Faulty bookings", "E-ZPass", "Ledger", "Fleet data", "Admin"} {
			if !strings.Contains(","+labels+",", ","+want+",") {
				t.Errorf("%s: menu lacks %q (has %s)", p, want, labels)
			}
		}
		if w := eval(pctx, `String(document.documentElement.scrollWidth)`); w != "390" {
			t.Errorf("%s: the open menu widens the page", p)
		}
		// Escape closes it and gives focus back to the button.
		if err := chromedp.Do(pctx, chromedp.KeyEvent(kb.Escape)); err != nil {
			cancel()
			t.Fatal(err)
		}
		if got := eval(pctx, `document.querySelector('[data-testid="nav-toggle"]').getAttribute("aria-expanded") + " " + document.activeElement.dataset.testid`); got != "false nav-toggle" {
			t.Errorf("%s: after Escape: %q; want closed with focus on the button", p, got)
		}
		cancel()
	}
}
