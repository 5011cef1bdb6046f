package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"recondesk/internal/auth"
	"recondesk/internal/store"
)

// faultyPipelineMatrix lists the partner, queue and ingestion routes.
var faultyPipelineMatrix = []access{
	{"GET", "/faulty/queue", auth.Viewer, false},
	{"GET", "/faulty/periods/{period}", auth.Viewer, false},
	{"POST", "/faulty/queue/revalidate", auth.Finance, false},
	{"POST", "/faulty/periods/{period}/run", auth.Finance, false},
	{"GET", "/admin/partners", auth.Admin, false},
	{"POST", "/admin/partners", auth.Admin, false},
	{"GET", "/admin/partners/new", auth.Admin, false},
	{"GET", "/admin/partners/{id}", auth.Admin, false},
	{"POST", "/admin/partners/{id}", auth.Admin, false},
}

// seedFaultyRows stores a validated October 2026 with rows of several reasons: 2 confirmed for
// DE*VLT, 3 UNKNOWN_PARTNER for DE*ZKL, 1 NOT_FOUND.
func seedFaultyRows(t *testing.T, b *bundle) store.Partner {
	t.Helper()
	ctx := context.Background()
	p, err := store.CreatePartner(ctx, b.db.Pool, store.PartnerInput{PartyID: "DE*VLT", Name: "Voltwerk", To: []string{"ops@voltwerk.example"}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.db.Pool.Exec(ctx, `
		INSERT INTO faulty_periods (period, ingested_at, validated_at) VALUES ('2026-10', now(), now());
		INSERT INTO faulty_report_rows (period, auth_ref, party_id, partner_name, partner_id, station_name, sheet_row, confirmed, reason, validated_at) VALUES
			('2026-10', 'aaaaaaaaaaaaaaaaaaaaaaa1', 'DE*VLT', 'Voltwerk', `+itoa(p.ID)+`, 'Berlin Messe', 4, true, '', now()),
			('2026-10', 'aaaaaaaaaaaaaaaaaaaaaaa2', 'DE*VLT', 'Voltwerk', `+itoa(p.ID)+`, 'Berlin Messe', 5, true, '', now()),
			('2026-10', 'bbbbbbbbbbbbbbbbbbbbbbb1', 'DE*ZKL', 'Zukunftsladen GmbH', NULL, 'Köln Markt', 6, false, 'UNKNOWN_PARTNER', now()),
			('2026-10', 'bbbbbbbbbbbbbbbbbbbbbbb2', 'DE*ZKL', 'Zukunftsladen GmbH', NULL, 'Köln Markt', 7, false, 'UNKNOWN_PARTNER', now()),
			('2026-10', 'bbbbbbbbbbbbbbbbbbbbbbb3', 'DE*ZKL', 'Zukunftsladen GmbH', NULL, 'Köln Markt', 8, false, 'UNKNOWN_PARTNER', now()),
			('2026-10', 'cccccccccccccccccccccccc', 'DE*VLT', 'Voltwerk', `+itoa(p.ID)+`, 'Leipzig Hbf', 9, false, 'NOT_FOUND', now());`)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (b *bundle) jobs(t *testing.T, phase string) int {
	t.Helper()
	var n int
	if err := b.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'faulty.phase' AND args->>'phase' = $1`, phase).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPartnerPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.login(t, auth.Admin)

	resp, body := b.get(t, admin, "/admin/partners/new?party_id=DE*ZKL&name=Zukunftsladen+GmbH")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("new form = %d", resp.StatusCode)
	}
	mustContain(t, body, `value="DE*ZKL"`, `value="Zukunftsladen GmbH"`, `data-testid="partner-form"`)

	// Invalid input: 422 with a message next to each field, nothing stored.
	bad := url.Values{"party_id": {"DE*ZKL"}, "name": {""}, "credential_ids": {"65a1f0c2e4b0a1b2c3d4e5f6, nothex"},
		"to": {"ops@zkl.example, not-an-address"}, "cc": {""}, "escalation": {""}, "active": {"1"}}
	resp = b.post(t, admin, "/admin/partners", bad)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid partner = %d, want 422", resp.StatusCode)
	}
	body = readBody(t, resp)
	mustContain(t, body, `data-testid="error-name"`, `data-testid="error-credential_ids"`, "nothex", `data-testid="error-to"`, "not-an-address")
	if ps, _ := store.ListPartners(context.Background(), b.db.Pool); len(ps) != 0 {
		t.Fatalf("an invalid partner was stored: %+v", ps)
	}

	good := url.Values{"party_id": {" DE*ZKL "}, "name": {"Zukunftsladen GmbH"},
		"credential_ids": {"65A1F0C2E4B0A1B2C3D4E5F6\n65a1f0c2e4b0a1b2c3d4e5f7 65a1f0c2e4b0a1b2c3d4e5f6"},
		"to":             {"ops@zkl.example; Billing Team <billing@zkl.example>"}, "cc": {"cc@zkl.example"}, "escalation": {"boss@zkl.example"}, "active": {"1"}}
	resp = b.post(t, admin, "/admin/partners", good)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create = %d: %s", resp.StatusCode, readBody(t, resp))
	}
	p, err := store.PartnerByPartyID(context.Background(), b.db.Pool, "DE*ZKL")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.CredentialIDs, ",") != "65a1f0c2e4b0a1b2c3d4e5f6,65a1f0c2e4b0a1b2c3d4e5f7" ||
		strings.Join(p.To, "|") != `ops@zkl.example|"Billing Team" <billing@zkl.example>` || !p.Active || p.Escalation[0] != "boss@zkl.example" {
		t.Errorf("stored partner = %+v", p)
	}
	ev, _ := store.ListAudit(context.Background(), b.db.Pool, store.AuditFilter{SubjectType: "partner", SubjectID: itoa(p.ID)})
	if len(ev) != 1 || ev[0].Action != "partner.create" || !strings.Contains(string(ev[0].After), `"party_id": "DE*ZKL"`) {
		t.Fatalf("audit = %+v", ev)
	}

	// A taken Party ID is shown next to the field.
	resp = b.post(t, admin, "/admin/partners", good)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(readBody(t, resp), `data-testid="error-party_id"`) {
		t.Errorf("duplicate Party ID = %d, want 422 with a field error", resp.StatusCode)
	}

	// Edit: before and after are audited.
	good.Set("name", "Zukunftsladen AG")
	good.Del("active")
	resp = b.post(t, admin, "/admin/partners/"+itoa(p.ID), good)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("update = %d", resp.StatusCode)
	}
	ev, _ = store.ListAudit(context.Background(), b.db.Pool, store.AuditFilter{SubjectType: "partner", SubjectID: itoa(p.ID)})
	if len(ev) != 2 || ev[0].Action != "partner.update" || !strings.Contains(string(ev[0].Before), "Zukunftsladen GmbH") ||
		!strings.Contains(string(ev[0].After), "Zukunftsladen AG") || !strings.Contains(string(ev[0].After), `"active": false`) {
		t.Fatalf("update audit = %+v", ev[0])
	}
	_, body = b.get(t, admin, "/admin/partners/"+itoa(p.ID))
	mustContain(t, body, "Zukunftsladen AG", `data-testid="partner-history"`, "partner.update")

	// The list, as a page and as an htmx fragment.
	_, body = b.get(t, admin, "/admin/partners")
	mustContain(t, body, `data-testid="partner-DE*ZKL"`, "<html")
	_, frag := b.get(t, admin, "/admin/partners", "HX-Request", "true")
	if strings.Contains(frag, "<html") || !strings.Contains(frag, `data-testid="partners"`) {
		t.Error("the htmx request did not get the fragment")
	}
	if resp, _ := b.get(t, admin, "/admin/partners/999999"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown partner = %d, want 404", resp.StatusCode)
	}
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String()
}

func TestFaultyQueuePage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	seedFaultyRows(t, b)
	viewer, finance, admin := b.login(t, auth.Viewer), b.login(t, auth.Finance), b.login(t, auth.Admin)

	resp, body := b.get(t, viewer, "/faulty/queue")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("queue = %d", resp.StatusCode)
	}
	mustContain(t, body, `data-testid="unknown-DE*ZKL"`, "Zukunftsladen GmbH",
		`href="/admin/partners/new?name=Zukunftsladen+GmbH&amp;party_id=DE%2AZKL"`,
		`data-testid="reason-UNKNOWN_PARTNER"`, `data-testid="reason-NOT_FOUND"`)
	if strings.Contains(body, `data-testid="revalidate"`) {
		t.Error("a viewer sees the Re-validate button")
	}
	if !strings.Contains(body, `<td class="px-3 py-2" data-testid="count">3</td>`) {
		t.Error("the unknown partner's count of 3 is not shown")
	}
	_, body = b.get(t, finance, "/faulty/queue?period=2026-10&reason=NOT_FOUND", "HX-Request", "true")
	mustContain(t, body, `data-testid="revalidate"`, `data-testid="queue-rows"`, "cccccccccccccccccccccccc")
	if strings.Contains(body, "<html") || strings.Contains(body, "bbbbbbbbbbbbbbbbbbbbbbb1") {
		t.Error("the fragment holds the page shell or rows of another reason")
	}
	if resp, _ := b.get(t, viewer, "/faulty/queue?period=10-2026"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad period = %d, want 400", resp.StatusCode)
	}

	// Re-validate queues one job per period, once however often it is pressed.
	for i := 0; i < 2; i++ {
		resp = b.post(t, finance, "/faulty/queue/revalidate", url.Values{"period": {"2026-10"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("revalidate = %d", resp.StatusCode)
		}
	}
	if n := b.jobs(t, "revalidation"); n != 1 {
		t.Errorf("revalidation jobs = %d, want 1", n)
	}

	// Adding the partner offers (and queues) the re-validation of its waiting rows.
	_, body = b.get(t, admin, "/admin/partners/new?party_id=DE*ZKL")
	mustContain(t, body, "Re-validate the 3 report rows")
	if _, err := b.db.Pool.Exec(context.Background(), `DELETE FROM river_job`); err != nil {
		t.Fatal(err)
	}
	resp = b.post(t, admin, "/admin/partners", url.Values{"party_id": {"DE*ZKL"}, "name": {"Zukunftsladen"}, "to": {"a@zkl.example"}, "active": {"1"}, "revalidate": {"1"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create = %d", resp.StatusCode)
	}
	if n := b.jobs(t, "revalidation"); n != 1 {
		t.Errorf("revalidation jobs after adding the partner = %d, want 1", n)
	}
}

func TestFaultyPeriodPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	viewer, finance := b.login(t, auth.Viewer), b.login(t, auth.Finance)

	// A period never ingested shows its phases and what can run.
	resp, body := b.get(t, finance, "/faulty/periods/2026-09")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("period page = %d", resp.StatusCode)
	}
	mustContain(t, body, `data-testid="phase-ingestion"`, `data-testid="run-ingestion"`, "Nothing has run")
	resp = b.post(t, finance, "/faulty/periods/2026-09/run", url.Values{"phase": {"tracking"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(readBody(t, resp), "run validation first") {
		t.Errorf("tracking before validation = %d, want 422 saying what to run first", resp.StatusCode)
	}
	if resp = b.post(t, finance, "/faulty/periods/2026-09/run", url.Values{"phase": {"everything"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown phase = %d, want 400", resp.StatusCode)
	}
	resp = b.post(t, finance, "/faulty/periods/2026-09/run", url.Values{"phase": {"ingestion"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/faulty/periods/2026-09" {
		t.Fatalf("run ingestion = %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := b.jobs(t, "ingestion"); n != 1 {
		t.Errorf("ingestion jobs = %d, want 1", n)
	}
	if ev, _ := store.ListAudit(context.Background(), b.db.Pool, store.AuditFilter{Action: "faulty_period.run_now"}); len(ev) != 1 || ev[0].SubjectID != "2026-09" {
		t.Errorf("audit = %+v", ev)
	}

	// A known period shows counts, batches and runs with their messages; viewers get no buttons.
	seedFaultyRows(t, b)
	id, err := store.StartFaultyRun(context.Background(), b.db.Pool, "2026-10", "ingestion", "system:faulty.phase")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.FinishFaultyRun(context.Background(), b.db.Pool, id, store.RunFailed, "ChargeCloud rejected the API token (HTTP 401)", nil, []byte("<html>401</html>")); err != nil {
		t.Fatal(err)
	}
	_, body = b.get(t, viewer, "/faulty/periods/2026-10")
	mustContain(t, body, `data-testid="count-confirmed">2<`, `data-testid="count-in-latest">6<`, "ChargeCloud rejected the API token", "is kept for diagnosis")
	if strings.Contains(body, `data-testid="run-buttons"`) {
		t.Error("a viewer sees Run now buttons")
	}
	_, frag := b.get(t, viewer, "/faulty/periods/2026-10", "HX-Request", "true")
	if strings.Contains(frag, "<html") || !strings.Contains(frag, `data-testid="faulty-period"`) {
		t.Error("the htmx request did not get the fragment")
	}
	if resp, _ := b.get(t, viewer, "/faulty/periods/2026-13"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("invalid period = %d, want 404", resp.StatusCode)
	}
}
