package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"recondesk/internal/auth"
	"recondesk/internal/faulty"
	"recondesk/internal/store"
)

// faultyFixture adds batches of the period two months back (so every ladder
// step is past: overdue, late notification) with a master file v1.
func faultyFixture(t *testing.T, b *bundle, batches, items int) (string, []string) {
	t.Helper()
	period := faulty.PeriodOf(time.Now(), time.UTC).Prev().Prev()
	f := excelize.NewFile()
	_ = f.SetSheetRow("Sheet1", "A1", &[]any{"Faulty bookings", "v1"})
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	tracked := time.Date(period.Next().Year, period.Next().Month, 12, 10, 0, 0, 0, time.UTC)
	ids, err := store.CreateLadderFixture(context.Background(), b.db.Pool, store.LadderFixture{Period: period.String(), Batches: batches, Items: items,
		TrackedAt: tracked, Cc: []string{"billing{n}@partner.test"}, Escalation: []string{"boss{n}@partner.test"}, MasterFile: buf.Bytes()})
	if err != nil {
		t.Fatal(err)
	}
	return period.String(), ids
}

func emailsOf(t *testing.T, b *bundle, batch string) []store.FaultyEmail {
	t.Helper()
	es, err := store.FaultyEmailsByBatch(context.Background(), b.db.Pool, batch)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestFaultyBatchPagesRender(t *testing.T) {
	t.Parallel()
	b := setup(t)
	period, ids := faultyFixture(t, b, 2, 3)
	viewer := b.login(t, auth.Viewer)

	resp, body := b.get(t, viewer, "/faulty")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /faulty = %d", resp.StatusCode)
	}
	mustContain(t, body, `data-testid="faulty-grid"`, period, "Partner 1", "Partner 2", "3 open / 0 resolved", "overdue", `data-testid="late"`, "/faulty/batches/"+ids[0])
	if strings.Count(body, `data-testid="faulty-cell"`) != 2 {
		t.Errorf("overview has %d cells; want 2", strings.Count(body, `data-testid="faulty-cell"`))
	}
	resp, frag := b.get(t, viewer, "/faulty?period="+period, "HX-Request", "true")
	if resp.StatusCode != http.StatusOK || strings.Contains(frag, "<html") || !strings.Contains(frag, `data-testid="faulty-grid"`) {
		t.Errorf("htmx overview = %d, full page %v", resp.StatusCode, strings.Contains(frag, "<html"))
	}
	if resp, _ := b.get(t, viewer, "/faulty?period=2026-13"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad period = %d; want 400", resp.StatusCode)
	}

	resp, body = b.get(t, viewer, "/faulty/batches/"+ids[0])
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("batch page = %d", resp.StatusCode)
	}
	mustContain(t, body, `data-testid="timeline-svg"`, `data-state="late"`, `data-step="Notification"`, `data-testid="thread"`,
		"No email has been sent", `data-testid="master-files"`, "overdue")
	if strings.Count(body, `data-testid="item-row"`) != 3 {
		t.Errorf("batch page lists %d items; want 3", strings.Count(body, `data-testid="item-row"`))
	}
	if strings.Contains(body, `data-testid="escalate"`) || strings.Contains(body, "master-file-download") {
		t.Error("a viewer sees finance actions")
	}
	resp, frag = b.get(t, viewer, "/faulty/batches/"+ids[0], "HX-Request", "true")
	if resp.StatusCode != http.StatusOK || strings.Contains(frag, "<html") || !strings.Contains(frag, `data-testid="faulty-batch"`) {
		t.Errorf("htmx batch page = %d", resp.StatusCode)
	}

	// Items: filter and search as a fragment and as a full page.
	resp, frag = b.get(t, viewer, "/faulty/batches/"+ids[0]+"/items?reason=TARIFF_MISMATCH", "HX-Request", "true")
	if resp.StatusCode != http.StatusOK || strings.Contains(frag, "<html") || strings.Count(frag, `data-testid="item-row"`) != 2 {
		t.Errorf("reason filter = %d with %d rows; want 2 rows (items 1 and 3)", resp.StatusCode, strings.Count(frag, `data-testid="item-row"`))
	}
	_, frag = b.get(t, viewer, "/faulty/batches/"+ids[0]+"/items?q=st-1-2", "HX-Request", "true")
	if strings.Count(frag, `data-testid="item-row"`) != 1 || !strings.Contains(frag, "ST-1-2") {
		t.Errorf("search by station id found %d rows; want 1", strings.Count(frag, `data-testid="item-row"`))
	}
	_, full := b.get(t, viewer, "/faulty/batches/"+ids[0]+"/items?state=resolved")
	mustContain(t, full, "<html", "No bookings match.")

	for _, p := range []string{"/faulty/batches/not-a-uuid", "/faulty/batches/00000000-0000-0000-0000-000000000000"} {
		if resp, _ := b.get(t, viewer, p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d; want 404", p, resp.StatusCode)
		}
	}

	// Home shows the panel.
	_, home := b.get(t, viewer, "/")
	mustContain(t, home, `data-testid="faulty-panel"`, `data-testid="bar-chart"`, "Partner 1", `data-testid="late-phases"`)
}

func TestFaultyBatchActions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, ids := faultyFixture(t, b, 1, 3)
	fin := b.login(t, auth.Finance)
	id := ids[0]

	// Run now: past every step → only the final reminder, escalation in CC.
	resp := b.post(t, fin, "/faulty/batches/"+id+"/run", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("run now = %d", resp.StatusCode)
	}
	es := emailsOf(t, b, id)
	if len(es) != 1 || es[0].StepKey != "final_reminder" || es[0].State != store.EmailPending {
		t.Fatalf("after run now: %+v; want one pending final reminder", es)
	}
	// Again: nothing due; the banner says so.
	resp = b.post(t, fin, "/faulty/batches/"+id+"/run", nil)
	_, page := b.get(t, fin, resp.Header.Get("Location"))
	mustContain(t, page, "Nothing is due for this batch now")

	// Re-escalate needs a note.
	resp = b.post(t, fin, "/faulty/batches/"+id+"/escalate", url.Values{"note": {"  "}})
	_, page = b.get(t, fin, resp.Header.Get("Location"))
	mustContain(t, page, "Write a note")
	b.post(t, fin, "/faulty/batches/"+id+"/escalate", url.Values{"note": {"Please call us."}})
	es = emailsOf(t, b, id)
	if len(es) != 2 || es[1].StepKey != "re_escalation:1" || es[1].Seq != 2 || !strings.Contains(strings.Join(es[1].Cc, ","), "boss1@partner.test") {
		t.Fatalf("after re-escalate: %d emails, last %+v", len(es), es[len(es)-1])
	}
	_, page = b.get(t, fin, "/faulty/batches/"+id)
	mustContain(t, page, "Re-escalation 1", "Please call us.", strings.Trim(es[1].MessageID, "<>"), "master file v3")

	// Resolve one item, then the batch: the closing message follows at once.
	items, _ := store.LadderItems(context.Background(), b.db.Pool, id, store.LadderItemFilter{State: "open"})
	resp = b.post(t, fin, "/faulty/batches/"+id+"/resolve-items", url.Values{"item": {itoa(items[0].ID)}, "note": {"fixed by CDR"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("resolve items = %d", resp.StatusCode)
	}
	bt, _ := store.LoadLadderBatch(context.Background(), b.db.Pool, id)
	if bt.Facts.Open != 2 || bt.Facts.Resolved != 1 {
		t.Errorf("after resolving one: open %d resolved %d; want 2, 1", bt.Facts.Open, bt.Facts.Resolved)
	}
	b.post(t, fin, "/faulty/batches/"+id+"/resolve", url.Values{"note": {"partner credited the rest"}})
	bt, _ = store.LoadLadderBatch(context.Background(), b.db.Pool, id)
	es = emailsOf(t, b, id)
	if bt.Facts.Open != 0 || bt.ResolvedAt == nil || es[len(es)-1].StepKey != "closing" {
		t.Errorf("after resolving the batch: open %d, resolved_at %v, last email %s; want 0, set, closing", bt.Facts.Open, bt.ResolvedAt, es[len(es)-1].StepKey)
	}
	ev, _ := store.ListAudit(context.Background(), b.db.Pool, store.AuditFilter{SubjectType: "faulty_batch", SubjectID: id})
	actions := map[string]int{}
	for _, e := range ev {
		actions[e.Action]++
	}
	if actions["faulty_batch.resolve_items"] != 2 || actions["faulty.email_decided"] != 3 {
		t.Errorf("audit actions = %v", actions)
	}

	// Master file download is an xlsx.
	resp, body := b.get(t, fin, "/faulty/batches/"+id+"/master-files/1")
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), "v1.xlsx") {
		t.Fatalf("download = %d %s", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}
	if _, err := excelize.OpenReader(strings.NewReader(body)); err != nil {
		t.Errorf("download is not a workbook: %v", err)
	}
	// The name is Windows-safe: the party ID DE*T1 reads DE-T1.
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err != nil ||
		params["filename"] != "Faulty bookings DE-T1 "+bt.Period.String()+" v1.xlsx" {
		t.Errorf("download file name = %q (%v); want the Windows-safe name", params["filename"], err)
	}
	if resp, _ := b.get(t, fin, "/faulty/batches/"+id+"/master-files/7"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing version = %d; want 404", resp.StatusCode)
	}

	// Staff actions on emails: only unknown or failed ones.
	resp = b.post(t, fin, "/faulty/emails/"+itoa(es[0].ID)+"/mark-sent", url.Values{"note": {"ok"}})
	_, page = b.get(t, fin, resp.Header.Get("Location"))
	mustContain(t, page, "only an email whose outcome is unknown")
	if _, err := b.db.Pool.Exec(context.Background(), `UPDATE faulty_emails SET state = 'unknown' WHERE id = $1`, es[0].ID); err != nil {
		t.Fatal(err)
	}
	_, page = b.get(t, fin, "/faulty/batches/"+id)
	mustContain(t, page, `data-testid="mark-sent"`, `data-testid="resend"`)
	b.post(t, fin, "/faulty/emails/"+itoa(es[0].ID)+"/mark-sent", url.Values{"note": {"partner confirmed by phone"}})
	if e, _ := store.FaultyEmailByID(context.Background(), b.db.Pool, es[0].ID); e.State != store.EmailSent || e.Note != "partner confirmed by phone" {
		t.Errorf("after mark sent: %s %q", e.State, e.Note)
	}
}

func TestFaultyAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	period, ids := faultyFixture(t, b, 2, 2)
	call := func(method, path, token, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, b.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var v map[string]any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s %s: not JSON: %s", method, path, raw)
		}
		return resp.StatusCode, v
	}
	viewer, fin := b.token(t, auth.Viewer), b.token(t, auth.Finance)

	code, v := call("GET", "/api/faulty/batches?period="+period, viewer, "")
	bs, _ := v["batches"].([]any)
	if code != 200 || len(bs) != 2 || bs[0].(map[string]any)["state"] != "overdue" {
		t.Fatalf("list = %d %v", code, v)
	}
	if code, v := call("GET", "/api/faulty/batches?period=13", viewer, ""); code != 400 || v["error"].(map[string]any)["code"] != "invalid" {
		t.Errorf("bad period = %d %v", code, v)
	}
	code, v = call("GET", "/api/faulty/batches/"+ids[0], viewer, "")
	if items, _ := v["items"].([]any); code != 200 || len(items) != 2 || v["timeline"] == nil {
		t.Fatalf("batch = %d %v", code, v)
	}
	if code, _ := call("POST", "/api/faulty/batches/"+ids[0]+"/escalate", viewer, `{"note":"x"}`); code != 403 {
		t.Errorf("viewer escalate = %d; want 403", code)
	}
	if code, v := call("POST", "/api/faulty/batches/"+ids[0]+"/escalate", fin, `{}`); code != 400 || !strings.Contains(v["error"].(map[string]any)["message"].(string), "note") {
		t.Errorf("escalate without note = %d %v; want 400 naming the note", code, v)
	}
	code, v = call("POST", "/api/faulty/batches/"+ids[0]+"/escalate", fin, `{"note":"Second notice by API"}`)
	if e, _ := v["email"].(map[string]any); code != 201 || e["step_key"] != "re_escalation:1" || e["state"] != "pending" {
		t.Errorf("escalate = %d %v", code, v)
	}
	if code, _ := call("GET", "/api/faulty/batches/00000000-0000-0000-0000-000000000000", viewer, ""); code != 404 {
		t.Errorf("unknown batch = %d; want 404", code)
	}
	code, v = call("POST", "/api/faulty/ingest", fin, `{"period":"`+period+`"}`)
	var jobs int
	_ = b.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'faulty.phase'`).Scan(&jobs)
	if code != 202 || jobs != 1 {
		t.Errorf("ingest = %d %v with %d faulty.phase jobs; want 202 and 1 job", code, v, jobs)
	}
	if code, _ := call("POST", "/api/faulty/ingest", fin, `{"period":"2026-1"}`); code != 400 {
		t.Errorf("ingest bad period = %d; want 400", code)
	}
}
