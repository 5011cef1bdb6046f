package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"recondesk/internal/auth"
	"recondesk/internal/store"
)

// disputedBatch makes one batch of n bookings, every one disputed by one
// returned file (one transaction: the disputes share their created_at, so
// the page order leans on the id tiebreaker).
func disputedBatch(t *testing.T, b *bundle, n int) []string {
	t.Helper()
	ctx := context.Background()
	_, ids := faultyFixture(t, b, 1, n)
	items, err := store.LadderItems(ctx, b.db.Pool, ids[0], store.LadderItemFilter{})
	if err != nil || len(items) != n {
		t.Fatalf("items = %d, %v", len(items), err)
	}
	tx, err := b.db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	msgID, _, err := store.InsertInbound(ctx, tx, store.NewInbound{DedupeKey: "<file@many.test>", MessageID: "<file@many.test>",
		Mailbox: "INBOX", From: "ops@partner.test", Subject: "returned", ReceivedAt: time.Now(), Kind: "human", BatchID: &ids[0],
		MatchedBy: "manual"})
	if err != nil {
		t.Fatal(err)
	}
	var rs []store.ItemResponse
	var refs []string
	for _, it := range items {
		rs = append(rs, store.ItemResponse{ItemID: it.ID, Response: "disputed", Note: "not ours " + it.AuthRef})
		refs = append(refs, it.AuthRef)
	}
	opened, err := store.RecordItemResponses(ctx, tx, ids[0], msgID, rs, "system:test", time.Now())
	if err != nil || opened != n {
		t.Fatalf("disputes opened = %d, %v", opened, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return refs
}

// disputeRefs are the bookings of a Disputes page, in page order.
func disputeRefs(t *testing.T, body string) []string {
	t.Helper()
	var refs []string
	for _, n := range byTestID(t, body, "dispute") {
		refs = append(refs, attr(n, "data-ref"))
	}
	return refs
}

// pagerLink is the href of a pager link ("" when the page has none).
func pagerLink(t *testing.T, body, id string) string {
	t.Helper()
	ns := byTestID(t, body, id)
	if len(ns) == 0 {
		return ""
	}
	return attr(ns[0], "href")
}

func TestDisputesPageKeyset(t *testing.T) {
	t.Parallel()
	b := setup(t)
	refs := disputedBatch(t, b, 137)
	viewer := b.login(t, auth.Viewer)

	resp, body := b.get(t, viewer, "/disputes?state=open")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/disputes = %d", resp.StatusCode)
	}
	first := disputeRefs(t, body)
	if len(first) != store.DisputePageSize {
		t.Fatalf("first page holds %d disputes, want %d", len(first), store.DisputePageSize)
	}
	if c := byTestID(t, body, "disputes-count"); len(c) != 1 || textOf(c[0]) != "137 disputes" {
		t.Errorf("count = %v", c)
	}
	if pagerLink(t, body, "prev-page") != "" || pagerLink(t, body, "first-page") != "" {
		t.Errorf("the first page links backwards")
	}
	next := pagerLink(t, body, "next-page")
	if !strings.HasPrefix(next, "/disputes?") || !strings.Contains(next, "state=open") || !strings.Contains(next, "before=") {
		t.Fatalf("next link = %q", next)
	}
	if f := byTestID(t, body, "dispute-accept-form"); len(f) != 0 {
		t.Errorf("a viewer sees decision forms")
	}

	_, body = b.get(t, viewer, next)
	second := disputeRefs(t, body)
	if len(second) != len(refs)-store.DisputePageSize {
		t.Fatalf("second page holds %d disputes, want %d", len(second), len(refs)-store.DisputePageSize)
	}
	if pagerLink(t, body, "next-page") != "" {
		t.Errorf("the last page has a Next link")
	}
	seen := map[string]bool{}
	for _, r := range append(append([]string{}, first...), second...) {
		if seen[r] {
			t.Errorf("%s is on both pages", r)
		}
		seen[r] = true
	}
	for _, r := range refs {
		if !seen[r] {
			t.Errorf("%s is on no page", r)
		}
	}
	prev := pagerLink(t, body, "prev-page")
	if !strings.Contains(prev, "state=open") || !strings.Contains(prev, "after=") {
		t.Fatalf("previous link = %q", prev)
	}
	_, body = b.get(t, viewer, prev)
	if back := disputeRefs(t, body); strings.Join(back, ",") != strings.Join(first, ",") {
		t.Errorf("Previous page is not the first page: %d rows", len(back))
	}
	if pagerLink(t, body, "prev-page") != "" || pagerLink(t, body, "next-page") == "" {
		t.Errorf("back on the first page the pager is wrong")
	}

	// Another state's list is empty; the filter stays in the URL.
	_, body = b.get(t, viewer, "/disputes?state=accepted")
	if n := len(disputeRefs(t, body)); n != 0 || pagerLink(t, body, "next-page") != "" {
		t.Errorf("accepted disputes = %d", n)
	}
	resp, _ = b.get(t, viewer, "/disputes?before=x")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a broken cursor = %d, want 400", resp.StatusCode)
	}

	// Finance deciding on page 2 returns to page 2.
	finance := b.login(t, auth.Finance)
	_, body = b.get(t, finance, next)
	backs := byTestID(t, body, "dispute-accept-form")
	if len(backs) == 0 || !strings.Contains(body, `name="back" value="`+strings.ReplaceAll(next, "&", "&amp;")+`"`) {
		t.Errorf("decision forms do not return to the page %q", next)
	}
}
