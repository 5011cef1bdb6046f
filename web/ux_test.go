package web

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"recondesk/internal/auth"
)

// TestShellNavMenuFaviconAndErrorPage: every page has the favicon, a menu
// button that controls the nav, Fleet data in the nav (highlighted on its
// pages instead of E-ZPass), and the 404 is a page with a way on.
func TestShellNavMenuFaviconAndErrorPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.login(t, auth.Viewer)
	_, body := b.get(t, c, "/fleet/vehicles")
	mustContain(t, body, `rel="icon" href="/static/img/favicon.svg"`, `aria-controls="site-nav"`, `aria-expanded="false"`, `id="site-nav"`)
	active := regexp.MustCompile(`href="([^"]+)"[^>]*aria-current="page"[^>]*>([^<]+)<`).FindAllStringSubmatch(body, -1)
	if len(active) == 0 || active[0][2] != "Fleet data" {
		t.Errorf("active nav item on /fleet/vehicles = %v; want Fleet data only", active)
	}
	resp, _ := b.get(t, c, "/static/img/favicon.svg")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/svg+xml") {
		t.Errorf("favicon: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	_, body = b.get(t, c, "/ezpass/failures")
	mustContain(t, body, `data-testid="ezpass-tabs"`)

	resp, body = b.get(t, c, "/no/such/page")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("404 page: %d", resp.StatusCode)
	}
	mustContain(t, body, `data-testid="error-page" data-status="404"`, "There is no page at /no/such/page", `">Back to Home</a>`)
	if strings.Contains(body, "data-dismiss") {
		t.Error("the 404 page is a dismissible banner")
	}
}

// TestHomeJobsCardForAdminsOnlyAndDisplayZone: finance staff do not see the
// background jobs card; times on Home are in DISPLAY_TZ with the zone's
// abbreviation (America/New_York by default).
func TestHomeJobsCardForAdminsOnlyAndDisplayZone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	at := time.Date(2026, 1, 15, 17, 4, 0, 0, time.UTC)
	if _, err := b.db.Pool.Exec(context.Background(), `INSERT INTO audit_events (actor, action, subject_type, subject_id, at) VALUES ('system:test', 'demo.touch', 'thing', '1', $1)`, at); err != nil {
		t.Fatal(err)
	}
	_, body := b.get(t, b.login(t, auth.Finance), "/")
	if strings.Contains(body, "Background jobs") {
		t.Error("finance sees the background jobs card")
	}
	mustContain(t, body, "Jan 15, 2026 12:04 PM EST")
	_, body = b.get(t, b.login(t, auth.Admin), "/")
	mustContain(t, body, "Background jobs")
	_, body = b.get(t, b.login(t, auth.Admin), "/admin/users")
	mustContain(t, body, `data-testid="river-ui-link"`, `target="_blank"`)
}
