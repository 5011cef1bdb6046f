package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"recondesk/internal/auth"
	"recondesk/internal/store"
)

// batchPageIDs returns the item ids of a batch page in table order, and the
// hrefs of its Previous and Next links ("" when absent).
func batchPageIDs(t *testing.T, body string) (ids []int64, prev, next string) {
	t.Helper()
	for _, n := range byTestID(t, body, "item-row") {
		id, err := strconv.ParseInt(attr(n, "data-item-id"), 10, 64)
		if err != nil {
			t.Fatalf("item row without an id: %v", err)
		}
		ids = append(ids, id)
	}
	href := func(id string) string {
		if ns := byTestID(t, body, id); len(ns) == 1 {
			return attr(ns[0], "href")
		}
		return ""
	}
	return ids, href("page-prev"), href("page-next")
}

func openIDs(t *testing.T, b *bundle, batch string, f store.LadderItemFilter) []int64 {
	t.Helper()
	f.State, f.Limit = store.ItemOpen, 100000
	items, err := store.LadderItems(context.Background(), b.db.Pool, batch, f)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	slices.Sort(ids)
	return ids
}

// TestFaultyBatchItemsPaging: 250 bookings come in keyset pages of at most 100, in the table's
// order, Next then Previous returns the same page, and the filter stays in the links and URL.
func TestFaultyBatchItemsPaging(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, ids := faultyFixture(t, b, 1, 250)
	id := ids[0]
	viewer := b.login(t, auth.Viewer)
	ctx := context.Background()
	all, err := store.LadderItems(ctx, b.db.Pool, id, store.LadderItemFilter{Limit: 1000})
	if err != nil || len(all) != 250 {
		t.Fatalf("fixture: %d items, %v", len(all), err)
	}
	var want []int64
	for _, it := range all {
		want = append(want, it.ID)
	}

	var got []int64
	var pages [][]int64
	path := "/faulty/batches/" + id
	var prevOfLast string
	for path != "" {
		resp, body := b.get(t, viewer, path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d", path, resp.StatusCode)
		}
		page, prev, next := batchPageIDs(t, body)
		if len(page) > 100 || len(page) == 0 {
			t.Fatalf("%s shows %d bookings; want 1..100", path, len(page))
		}
		if (len(pages) == 0) != (prev == "") {
			t.Errorf("page %d: Previous link %q", len(pages)+1, prev)
		}
		pages = append(pages, page)
		got = append(got, page...)
		path, prevOfLast = next, prev
	}
	if len(pages) != 3 || len(pages[0]) != 100 || len(pages[2]) != 50 {
		t.Errorf("pages of %d, %d, …; want 100, 100, 50", len(pages[0]), len(pages[1]))
	}
	if !slices.Equal(got, want) {
		t.Errorf("the pages together are not every booking once in table order (%d ids)", len(got))
	}
	// Back from the last page: exactly page 2 again.
	_, body := b.get(t, viewer, prevOfLast)
	if back, _, _ := batchPageIDs(t, body); !slices.Equal(back, pages[1]) {
		t.Errorf("Previous from page 3 shows %d bookings starting %v; want page 2", len(back), back[:1])
	}

	// A filter stays in the links, and the htmx fragment puts it in the address bar.
	_, body = b.get(t, viewer, "/faulty/batches/"+id+"?reason=TARIFF_MISMATCH&q=station")
	page, _, next := batchPageIDs(t, body)
	u, _ := url.Parse(next)
	if len(page) != 100 || u.Query().Get("reason") != "TARIFF_MISMATCH" || u.Query().Get("q") != "station" {
		t.Errorf("filtered page: %d rows, next %q", len(page), next)
	}
	_, body = b.get(t, viewer, next)
	if page, _, next := batchPageIDs(t, body); len(page) != 25 || next != "" {
		t.Errorf("filtered page 2: %d rows, next %q; want 25 and none", len(page), next)
	}
	resp, _ := b.get(t, viewer, "/faulty/batches/"+id+"/items?reason=TARIFF_MISMATCH", "HX-Request", "true")
	if got := resp.Header.Get("HX-Push-Url"); got != "/faulty/batches/"+id+"?reason=TARIFF_MISMATCH" {
		t.Errorf("HX-Push-Url = %q", got)
	}
}

// TestFaultyResolveAllMatching: "all N matching" resolves exactly the open bookings the filter
// matches, chosen on the server, only when confirmed; "select all on this page" resolves the
// page's open bookings.
func TestFaultyResolveAllMatching(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, ids := faultyFixture(t, b, 1, 30)
	id := ids[0]
	fin := b.login(t, auth.Finance)
	ctx := context.Background()
	filter := store.LadderItemFilter{Reason: "TARIFF_MISMATCH", Search: "Station 1"}
	match := openIDs(t, b, id, filter) // odd i in 1, 10..19
	if len(match) != 6 {
		t.Fatalf("fixture: %d matching; want 6", len(match))
	}
	before := openIDs(t, b, id, store.LadderItemFilter{})

	_, body := b.get(t, fin, "/faulty/batches/"+id+"?reason=TARIFF_MISMATCH&q=Station+1")
	confirm := byTestID(t, body, "resolve-matching-confirm")
	if len(confirm) != 1 || !hasAttr(confirm[0], "required") || len(byTestID(t, body, "select-page")) != 1 {
		t.Fatalf("the matching form lacks its required confirmation or the page lacks select-all")
	}
	if btn := byTestID(t, body, "resolve-matching"); len(btn) != 1 || textOf(btn[0]) != "Resolve all 6 matching" {
		t.Errorf("resolve-matching button = %v", btn)
	}

	form := url.Values{"scope": {"matching"}, "reason": {"TARIFF_MISMATCH"}, "q": {"Station 1"}, "note": {"credited"}}
	b.post(t, fin, "/faulty/batches/"+id+"/resolve-items", form)
	if got := openIDs(t, b, id, store.LadderItemFilter{}); !slices.Equal(got, before) {
		t.Fatalf("without the confirmation %d bookings were resolved", len(before)-len(got))
	}
	form.Set("confirm", "yes")
	resp := b.post(t, fin, "/faulty/batches/"+id+"/resolve-items", form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/faulty/batches/"+id+"?q=Station+1&reason=TARIFF_MISMATCH" {
		t.Fatalf("resolve all matching = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	after := openIDs(t, b, id, store.LadderItemFilter{})
	var resolved []int64
	for _, x := range before {
		if !slices.Contains(after, x) {
			resolved = append(resolved, x)
		}
	}
	if !slices.Equal(resolved, match) {
		t.Errorf("resolved %v; want exactly the matching %v", resolved, match)
	}

	// Select all on this page (state=open, first page of 24): those and nothing else.
	_, body = b.get(t, fin, "/faulty/batches/"+id+"?state=open")
	page, _, _ := batchPageIDs(t, body)
	form = url.Values{"page": {"1"}, "state": {"open"}, "note": {"checked"}}
	for _, x := range page[:5] {
		form.Add("page_item", strconv.FormatInt(x, 10))
	}
	b.post(t, fin, "/faulty/batches/"+id+"/resolve-items", form)
	if got := openIDs(t, b, id, store.LadderItemFilter{}); len(got) != len(after)-5 || slices.Contains(got, page[0]) || !slices.Contains(got, page[5]) {
		t.Errorf("select-page resolved %d; want the 5 posted", len(after)-len(got))
	}
	bt, _ := store.LoadLadderBatch(ctx, b.db.Pool, id)
	if bt.Facts.Resolved != 11 {
		t.Errorf("batch resolved count %d; want 11", bt.Facts.Resolved)
	}
}

// TestFaultyBatchActionsFollowState: the timeline reads in time order, the destructive actions
// carry a required confirmation, and a resolved batch shows Resolved as done and offers no
// escalate, resolve or run, which the use cases refuse with a 422 too.
func TestFaultyBatchActionsFollowState(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, ids := faultyFixture(t, b, 1, 3)
	id := ids[0]
	fin := b.login(t, auth.Finance)

	_, body := b.get(t, fin, "/faulty/batches/"+id)
	var steps []string
	for _, n := range byTestID(t, body, "timeline-step") {
		steps = append(steps, attr(n, "data-step"))
	}
	if got := strings.Join(steps, ", "); got != "Ingestion, Validation, Master file, Monitoring, Notification, Reminder, Final reminder, Resolved" {
		t.Errorf("timeline order = %s", got)
	}
	for _, id := range []string{"run-now", "escalate", "resolve-batch"} {
		if len(byTestID(t, body, id)) != 1 {
			t.Errorf("an overdue batch does not offer %s", id)
		}
	}
	if c := byTestID(t, body, "resolve-confirm"); len(c) != 1 || !hasAttr(c[0], "required") {
		t.Errorf("Resolve batch has no required confirmation")
	}

	if resp := b.post(t, fin, "/faulty/batches/"+id+"/resolve", url.Values{"note": {"partner credited"}, "confirm": {"yes"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("resolve batch = %d", resp.StatusCode)
	}
	_, body = b.get(t, fin, "/faulty/batches/"+id)
	for _, id := range []string{"run-now", "escalate", "resolve-batch", "resolve-items", "resolve-matching"} {
		if len(byTestID(t, body, id)) != 0 {
			t.Errorf("a resolved batch offers %s", id)
		}
	}
	if len(byTestID(t, body, "batch-resolved")) != 1 {
		t.Error("a resolved batch does not say so in Actions")
	}
	for _, n := range byTestID(t, body, "timeline-step") {
		if attr(n, "data-step") == "Resolved" && attr(n, "data-state") != "done" {
			t.Errorf("Resolved step is %s; want done", attr(n, "data-state"))
		}
	}

	for path, want := range map[string]string{
		"/escalate":      "nothing to escalate",
		"/resolve":       "no open bookings left",
		"/run":           "no ladder step runs",
		"/resolve-items": "no open bookings left",
	} {
		form := url.Values{"note": {"again"}, "scope": {"matching"}, "confirm": {"yes"}}
		req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/faulty/batches/"+id+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("HX-Request", "true")
		resp, err := fin.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got := readBody(t, resp)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(got, want) {
			t.Errorf("POST %s on a resolved batch = %d; want 422 saying %q", path, resp.StatusCode, want)
		}
	}
}
