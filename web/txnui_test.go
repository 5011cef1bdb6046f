package web

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"recondesk/internal/auth"
)

// optionsOf is the value → label of each option of the select with the testid.
func optionsOf(t *testing.T, body, testid string) map[string]string {
	t.Helper()
	sel := byTestID(t, body, testid)
	if len(sel) != 1 {
		t.Fatalf("%d selects %q", len(sel), testid)
	}
	out := map[string]string{}
	for c := sel[0].FirstChild; c != nil; c = c.NextSibling {
		if c.Data == "option" {
			out[attr(c, "value")] = strings.TrimSpace(textOf(c))
		}
	}
	return out
}

func TestTxnListLabelsAndDefaultOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	txnFixture(t, b)
	c := b.login(t, auth.Viewer)
	_, body := b.get(t, c, "/ezpass/transactions")

	sorts := optionsOf(t, body, "select-sort")
	if sorts["txn_at"] != "Toll time" || sorts["amount"] != "Amount" {
		t.Errorf("sort options %v; want labels", sorts)
	}
	statuses := optionsOf(t, body, "select-status")
	if statuses["association_failed"] != "Association failed" || statuses[""] != "Any status" {
		t.Errorf("status options %v; want labels", statuses)
	}
	if kinds := optionsOf(t, body, "select-kind"); kinds["tag_fee"] != "Tag fee" {
		t.Errorf("kind options %v; want labels", kinds)
	}
	for _, sel := range []string{"select-sort", "select-status", "select-desc"} {
		n := byTestID(t, body, sel)[0]
		if cls := attr(n, "class"); !strings.Contains(cls, "bg-white") || !strings.Contains(cls, "text-slate-900") {
			t.Errorf("%s class %q; want a white, dark-text select", sel, cls)
		}
	}
	// Toll time and newest first are the selected defaults.
	if sel := selectedOf(t, body, "select-sort"); sel != "txn_at" {
		t.Errorf("selected sort %q; want txn_at", sel)
	}
	if sel := selectedOf(t, body, "select-desc"); sel != "1" {
		t.Errorf("selected order %q; want 1 (newest first)", sel)
	}
	rows := byTestID(t, body, "txn-row")
	var ids []string
	for _, r := range rows {
		ids = append(ids, attr(r, "data-id"))
	}
	if got := lanes(t, b, ids); len(got) != 12 || got[0] != "500012" || got[11] != "500001" {
		t.Errorf("default order %v; want newest (500012) first", got)
	}
	// Times use the one formatter: "Jan 12, 2026 8:00 AM EST".
	if cell := textOf(rows[0].FirstChild); !strings.HasSuffix(strings.TrimSpace(cell), " EST") || !strings.HasPrefix(strings.TrimSpace(cell), "Jan 12, 2026") {
		t.Errorf("first time cell %q; want Jan 12, 2026 … EST", cell)
	}
	if n := byTestID(t, body, "txn-count"); len(n) != 1 || textOf(n[0]) != "12 transactions" {
		t.Errorf("count missing or wrong")
	}
}

func selectedOf(t *testing.T, body, testid string) string {
	t.Helper()
	for c := byTestID(t, body, testid)[0].FirstChild; c != nil; c = c.NextSibling {
		if c.Data == "option" && hasAttr(c, "selected") {
			return attr(c, "value")
		}
	}
	return ""
}

// pageLanes is the lane ids of a page and its pager links.
func pageLanes(t *testing.T, b *bundle, body string) (got []string, prev, next string) {
	t.Helper()
	var ids []string
	for _, r := range byTestID(t, body, "txn-row") {
		ids = append(ids, attr(r, "data-id"))
	}
	if n := byTestID(t, body, "prev-page"); len(n) == 1 {
		prev = attr(n[0], "href")
	}
	if n := byTestID(t, body, "next-page"); len(n) == 1 {
		next = attr(n[0], "href")
	}
	return lanes(t, b, ids), prev, next
}

func TestTxnListPreviousAndNext(t *testing.T) {
	t.Parallel()
	b := setup(t)
	txnFixture(t, b)
	c := b.login(t, auth.Viewer)

	for _, tc := range []struct {
		query string
		pages [][]string
	}{
		{"limit=5", [][]string{{"500012", "500011", "500010", "500009", "500008"}, {"500007", "500006", "500005", "500004", "500003"}, {"500002", "500001"}}},
		// Ties on amount broken by id, ascending.
		{"sort=amount&desc=0&limit=4", [][]string{{"500005", "500009", "500004", "500012"}, {"500001", "500003", "500008", "500011"}, {"500007", "500006", "500002", "500010"}}},
	} {
		link := "/ezpass/transactions?" + tc.query
		var links []string
		// Forward to the end.
		for i, want := range tc.pages {
			_, body := b.get(t, c, link)
			got, prev, next := pageLanes(t, b, body)
			if !slices.Equal(got, want) {
				t.Fatalf("?%s page %d forward: %v; want %v", tc.query, i+1, got, want)
			}
			if (prev == "") != (i == 0) || (next == "") != (i == len(tc.pages)-1) {
				t.Fatalf("?%s page %d: prev %q next %q", tc.query, i+1, prev, next)
			}
			if i > 0 {
				mustContain(t, body, `data-testid="first-page"`)
			}
			links = append(links, prev)
			link = next
		}
		// And back to the start by Previous, page by page.
		link = links[len(links)-1]
		for i := len(tc.pages) - 2; i >= 0; i-- {
			_, body := b.get(t, c, link)
			got, prev, next := pageLanes(t, b, body)
			if !slices.Equal(got, tc.pages[i]) {
				t.Fatalf("?%s page %d backward: %v; want %v", tc.query, i+1, got, tc.pages[i])
			}
			if (prev == "") != (i == 0) || next == "" {
				t.Fatalf("?%s page %d backward: prev %q next %q", tc.query, i+1, prev, next)
			}
			if i == 0 && len(byTestID(t, body, "first-page")) != 0 {
				t.Errorf("?%s: the first page reached backwards offers a first-page link", tc.query)
			}
			// Round trip: Next from here is the page we came from.
			_, body2 := b.get(t, c, next)
			if got2, _, _ := pageLanes(t, b, body2); !slices.Equal(got2, tc.pages[i+1]) {
				t.Fatalf("?%s page %d next after back: %v; want %v", tc.query, i+1, got2, tc.pages[i+1])
			}
			link = prev
		}
		// The filters and limit survive in the links.
		if u, _ := url.Parse(links[1]); u.Query().Get("limit") == "" {
			t.Errorf("prev link %q lost the limit", links[1])
		}
	}
}
