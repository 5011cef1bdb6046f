package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"recondesk/internal/auth"
)

// visibleText is the text a person reads on the page: text nodes outside
// script, style and template elements (attributes, e.g. tooltips, are not).
func visibleText(t *testing.T, body string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "script" || n.Data == "style" || n.Data == "template" || n.Data == "head") {
			return
		}
		if n.Type == html.TextNode {
			sb.WriteString(n.Data)
			sb.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return sb.String()
}

// namesFixture: a toll assigned by finance and posted, a toll still failing,
// and a seed audit event.
func namesFixture(t *testing.T, b *bundle) (toll, journal, bob int64) {
	t.Helper()
	matchFixture(t, b)
	toll = addToll(t, b, "9999", nyAt(3, 1, 8, 0), 911)
	addToll(t, b, "2222", nyAt(3, 1, 9, 0), 500)
	runAssociation(t, b)
	finance := b.login(t, auth.Finance)
	lb, bob := leaseIDOf(t, b, "LB"), driverIDOf(t, b, "5000002")
	if resp := b.post(t, finance, "/ezpass/assign", url.Values{"ids": {itoa(toll)}, "choice": {fmt.Sprintf("%d:%d", lb, bob)}, "reason": {"tag not on file"}}); resp.StatusCode != 303 {
		t.Fatalf("assign: %d", resp.StatusCode)
	}
	b.post(t, finance, "/ezpass/post", url.Values{})
	workMatchJobs(t, b)
	if err := b.db.Pool.QueryRow(context.Background(), `SELECT id FROM ledger_journals WHERE source_id = $1`, itoa(toll)).Scan(&journal); err != nil {
		t.Fatal(err)
	}
	if _, err := b.db.Pool.Exec(context.Background(), `INSERT INTO audit_events (actor, action, subject_type, subject_id) VALUES ('system:seed', 'demo.touch', 'driver', $1)`, itoa(bob)); err != nil {
		t.Fatal(err)
	}
	return toll, journal, bob
}

// TestNamesInsteadOfIDs: the activity table (Home, audit page) and the
// journal page show people's emails, readable system actors, linked
// subjects and account names; the raw ids are tooltips.
func TestNamesInsteadOfIDs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	toll, journal, bob := namesFixture(t, b)
	admin := b.login(t, auth.Admin)
	for _, path := range []string{"/", "/admin/audit"} {
		_, body := b.get(t, admin, path)
		var actors []string
		for _, n := range byTestID(t, body, "audit-actor") {
			actors = append(actors, strings.TrimSpace(textOf(n)))
			if txt := textOf(n); strings.Contains(txt, "user:") || strings.Contains(txt, "system:") {
				t.Errorf("%s: actor cell shows the raw id %q", path, txt)
			}
		}
		joined := strings.Join(actors, "|")
		if !strings.Contains(joined, "finance@example.com") || !strings.Contains(joined, "Seed") {
			t.Errorf("%s: actors %v; want finance@example.com and Seed", path, actors)
		}
		var tollLink, driverLink bool
		for _, n := range byTestID(t, body, "audit-subject") {
			for _, a := range nodesOf(n, "a") {
				switch attr(a, "href") {
				case fmt.Sprintf("/ezpass/transactions/%d", toll):
					tollLink = strings.Contains(textOf(a), "9999 · MTAB&T · Mar 1, 2025 8:00 AM EST")
				case fmt.Sprintf("/ledger/drivers/%d", bob):
					driverLink = strings.Contains(textOf(a), "Bob Driver")
				}
			}
		}
		if !tollLink || !driverLink {
			t.Errorf("%s: subject links toll=%v driver=%v; want both named", path, tollLink, driverLink)
		}
	}
	_, body := b.get(t, admin, fmt.Sprintf("/ledger/journals/%d", journal))
	src := byTestID(t, body, "journal-source")
	if len(src) != 1 || len(nodesOf(src[0], "a")) != 1 || attr(nodesOf(src[0], "a")[0], "href") != fmt.Sprintf("/ezpass/transactions/%d", toll) ||
		!strings.Contains(textOf(src[0]), "E-ZPass toll: 9999 · MTAB&T · Mar 1, 2025 8:00 AM EST") {
		t.Errorf("journal source not a named link")
	}
	if n := byTestID(t, body, "journal-kind"); len(n) != 1 || strings.Contains(textOf(n[0]), "generation") {
		t.Errorf("journal kind shows the generation")
	}
	if n := byTestID(t, body, "journal-created-by"); len(n) != 1 || strings.Contains(textOf(n[0]), ":") {
		t.Errorf("journal creator shows a raw actor: %q", textOf(n[0]))
	}
	var accounts []string
	for _, n := range byTestID(t, body, "entry-account") {
		accounts = append(accounts, strings.TrimSpace(textOf(n)))
	}
	if strings.Join(accounts, "|") != "Receivable: Bob Driver|E-ZPass clearing" {
		t.Errorf("accounts %v; want names", accounts)
	}
}

var rfc3339Re = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}`)

// TestPagesShowTimesInDisplayZone renders the main pages with DISPLAY_TZ
// America/New_York (the default): no visible "UTC" or raw RFC 3339 time,
// and pages with times show the zone's abbreviation.
func TestPagesShowTimesInDisplayZone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if b.deps.Config.DisplayTZ.String() != "America/New_York" {
		t.Fatalf("DISPLAY_TZ = %s", b.deps.Config.DisplayTZ)
	}
	toll, journal, bob := namesFixture(t, b)
	var imp int64
	b.db.Pool.QueryRow(context.Background(), `SELECT import_id FROM ezpass_transactions WHERE id = $1`, toll).Scan(&imp)
	period, batches := faultyFixture(t, b, 1, 3)
	admin := b.login(t, auth.Admin)
	withTimes := []string{"/faulty/batches/" + batches[0], "/", "/admin/audit", "/ezpass/failures", "/ezpass/transactions", fmt.Sprintf("/ezpass/transactions/%d", toll),
		"/ezpass/imports", fmt.Sprintf("/ezpass/imports/%d", imp), fmt.Sprintf("/ledger/drivers/%d", bob),
		fmt.Sprintf("/ledger/journals/%d", journal), "/fleet/leases", "/fleet/tags"}
	others := []string{"/ledger", "/faulty", "/faulty/queue", "/faulty/periods/" + period, "/faulty/batches/" + batches[0] + "/items", "/disputes", "/inbox/unmatched"}
	for _, path := range append(withTimes, others...) {
		resp, body := b.get(t, admin, path)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", path, resp.StatusCode)
			continue
		}
		text := visibleText(t, body)
		if regexp.MustCompile(`\bUTC\b`).MatchString(text) {
			t.Errorf("%s shows UTC: %q", path, around(text, "UTC"))
		}
		if m := rfc3339Re.FindString(text); m != "" {
			t.Errorf("%s shows a raw timestamp: %q", path, around(text, m))
		}
		if slices.Contains(withTimes, path) && !regexp.MustCompile(`\d{1,2}:\d{2} [AP]M E[SD]T`).MatchString(text) {
			t.Errorf("%s shows no time with the EST/EDT abbreviation", path)
		}
	}
}

func around(s, sub string) string {
	i := strings.Index(s, sub)
	if i < 0 {
		return ""
	}
	return s[max(0, i-60):min(len(s), i+len(sub)+60)]
}

// TestHomeLinksOnlyPagesTheReaderMayOpen: a viewer's Home names a user or
// partner subject but does not link it to its admin page (which answers
// 403); an admin gets the link.
func TestHomeLinksOnlyPagesTheReaderMayOpen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	viewer, admin := b.login(t, auth.Viewer), b.login(t, auth.Admin)
	if _, err := b.db.Pool.Exec(context.Background(), `INSERT INTO audit_events (actor, action, subject_type, subject_id)
		SELECT 'system:seed', 'demo.user', 'user', id::text FROM users ORDER BY id LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		role auth.Role
		c    *http.Client
		link bool
	}{{auth.Viewer, viewer, false}, {auth.Admin, admin, true}} {
		c := tc.c
		_, body := b.get(t, c, "/")
		var named, linked bool
		for _, n := range byTestID(t, body, "audit-subject") {
			if strings.Contains(textOf(n), "@") {
				named = true
				for _, a := range nodesOf(n, "a") {
					linked = linked || strings.HasPrefix(attr(a, "href"), "/admin/users/")
				}
			}
		}
		if !named || linked != tc.link {
			t.Errorf("%s: user subject named=%v linked=%v; want named, linked=%v", tc.role, named, linked, tc.link)
		}
	}
}
