package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/auth"
	"recondesk/internal/jobs"
	"recondesk/internal/store"
)

// ezpassMatchMatrix lists the fleet, failures-queue and ledger routes.
var ezpassMatchMatrix = func() []access {
	m := []access{
		{"GET", "/ezpass/failures", auth.Viewer, false},
		{"GET", "/ezpass/runs", auth.Viewer, false},
		{"GET", "/ezpass/assign", auth.Finance, false},
		{"POST", "/ezpass/assign", auth.Finance, false},
		{"POST", "/ezpass/associate", auth.Finance, false},
		{"POST", "/ezpass/post", auth.Finance, false},
		{"GET", "/ledger", auth.Viewer, false},
		{"GET", "/ledger/drivers/{id}", auth.Viewer, false},
		{"GET", "/ledger/journals/{id}", auth.Viewer, false},
		{"PUT", "/api/ezpass/transactions/{id}", auth.Finance, true},
		{"POST", "/api/ezpass/associate", auth.Finance, true},
		{"POST", "/api/ezpass/post", auth.Finance, true},
	}
	for _, e := range fleetEntities {
		m = append(m, access{"GET", "/fleet/" + e.Name, auth.Viewer, false}, access{"POST", "/fleet/" + e.Name, auth.Admin, false})
	}
	return m
}()

var nyTZ = func() *time.Location { l, _ := time.LoadLocation("America/New_York"); return l }()

func nyAt(m time.Month, d, h, min int) time.Time { return time.Date(2025, m, d, h, min, 0, 0, nyTZ) }

// matchFixture is a small fleet: vehicle A (tag 1111, plate NY T1C) with
// lease LA (Ann) until Feb 10 14:00 and LB (Bob) after; vehicle B (tag
// 2222) with no lease.
func matchFixture(t *testing.T, b *bundle) {
	t.Helper()
	ctx := context.Background()
	batch := store.FleetBatch{
		Medallions: []store.MedallionRow{{Line: 1, Number: "1A01"}},
		Drivers:    []store.DriverRow{{Line: 1, Name: "Ann Driver", TLC: "5000001"}, {Line: 2, Name: "Bob Driver", TLC: "5000002"}},
		Vehicles:   []store.VehicleRow{{Line: 1, VIN: "1HGCM82633A000001", Medallion: "1A01"}, {Line: 2, VIN: "1HGCM82633A000002", Medallion: "1A01"}},
		Tags: []store.TagRow{{Line: 1, VIN: "1HGCM82633A000001", Tag: "1111", From: nyAt(1, 1, 0, 0)},
			{Line: 2, VIN: "1HGCM82633A000002", Tag: "2222", From: nyAt(1, 1, 0, 0)}},
		Leases: []store.LeaseRow{
			{Line: 1, Ref: "LA", VIN: "1HGCM82633A000001", Medallion: "1A01", From: nyAt(1, 1, 0, 0), To: nyAt(2, 10, 14, 0), Active: true},
			{Line: 2, Ref: "LB", VIN: "1HGCM82633A000001", Medallion: "1A01", From: nyAt(2, 10, 14, 0), To: nyAt(6, 1, 0, 0), Active: true},
		},
		LeaseDrivers: []store.LeaseDriverRow{{Line: 1, LeaseRef: "LA", TLC: "5000001", Primary: true, Position: 1}, {Line: 2, LeaseRef: "LB", TLC: "5000002", Primary: true, Position: 1}},
	}
	err := store.InTx(ctx, b.db.Pool, func(tx pgx.Tx) error {
		_, errs, err := store.LoadFleet(ctx, tx, batch, nyTZ)
		if len(errs) > 0 {
			return fmt.Errorf("%+v", errs)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// addToll inserts an imported toll.
func addToll(t *testing.T, b *bundle, tag string, at time.Time, cents int64) int64 {
	t.Helper()
	var id int64
	err := b.db.Pool.QueryRow(context.Background(), `
		WITH imp AS (INSERT INTO ezpass_imports (account, file_name, size_bytes, sha256, created_by)
			VALUES ('main', 'f.csv', 1, 'sha-' || $1 || $2::timestamptz::text, 'test') RETURNING id)
		INSERT INTO ezpass_transactions (account, dedupe_key, row_hash, import_id, line, kind, tag_or_plate, tag, agency, exit_plaza, txn_at, amount_cents, raw)
		SELECT 'main', $1 || $2::timestamptz::text, 'h', imp.id, 2, 'toll', $1, $1, 'MTAB&T', 'RFK', $2::timestamptz, $3, '{}' FROM imp RETURNING id`, tag, at, cents).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func runAssociation(t *testing.T, b *bundle) store.AssociationCounts {
	t.Helper()
	c, err := jobs.RunAssociation(context.Background(), jobs.AssociationRun{Pool: b.db.Pool, TZ: nyTZ, Actor: "system:test"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func leaseIDOf(t *testing.T, b *bundle, ref string) int64 {
	t.Helper()
	var id int64
	if err := b.db.Pool.QueryRow(context.Background(), `SELECT id FROM leases WHERE ref = $1`, ref).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func driverIDOf(t *testing.T, b *bundle, tlc string) int64 {
	t.Helper()
	var id int64
	if err := b.db.Pool.QueryRow(context.Background(), `SELECT id FROM drivers WHERE tlc_license = $1`, tlc).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func txnStatus(t *testing.T, b *bundle, id int64) (status, method string, driver int64) {
	t.Helper()
	var d *int64
	var m *string
	if err := b.db.Pool.QueryRow(context.Background(), `SELECT status, match_method, driver_id FROM ezpass_transactions WHERE id = $1`, id).Scan(&status, &m, &d); err != nil {
		t.Fatal(err)
	}
	if d != nil {
		driver = *d
	}
	if m != nil {
		method = *m
	}
	return
}

func TestFailuresQueuePerRole(t *testing.T) {
	t.Parallel()
	b := setup(t)
	matchFixture(t, b)
	noLease := addToll(t, b, "2222", nyAt(3, 1, 8, 0), 911)
	addToll(t, b, "9999", nyAt(3, 1, 9, 0), 500)
	addToll(t, b, "1111", nyAt(3, 1, 10, 0), 700)
	if c := runAssociation(t, b); c.ByTag != 1 || c.Failed["NO_ACTIVE_LEASE"] != 1 || c.Failed["NO_VEHICLE"] != 1 {
		t.Fatalf("association = %+v", c)
	}
	viewer := b.login(t, auth.Viewer)
	resp, body := b.get(t, viewer, "/ezpass/failures")
	if resp.StatusCode != 200 {
		t.Fatalf("viewer: %d", resp.StatusCode)
	}
	mustContain(t, body, `data-testid="group-NO_ACTIVE_LEASE"`, "No active lease on 2025-03-01 08:00 EST for vehicle 1HGCM82633A000002",
		"No vehicle found for tag 9999", fmt.Sprintf(`data-testid="failure-%d"`, noLease), "<html")
	if strings.Contains(body, `data-testid="assign-link"`) || strings.Contains(body, "run-associate") {
		t.Fatal("a viewer is offered Assign or Run association")
	}
	finance := b.login(t, auth.Finance)
	_, body = b.get(t, finance, "/ezpass/failures?code=NO_VEHICLE", "HX-Request", "true")
	mustContain(t, body, `data-testid="assign-link"`, "No vehicle found for tag 9999", `data-testid="run-associate"`)
	if strings.Contains(body, "<html") || strings.Contains(body, "No active lease on") {
		t.Fatal("htmx request got the full page or the wrong group")
	}
	resp, _ = b.get(t, b.client(t), "/ezpass/failures")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("anonymous: %d", resp.StatusCode)
	}
}

func TestAssignViaFormPostsAndAudits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	matchFixture(t, b)
	first := addToll(t, b, "9999", nyAt(3, 1, 8, 0), 911)
	second := addToll(t, b, "9999", nyAt(3, 2, 8, 0), 250)
	runAssociation(t, b)
	finance := b.login(t, auth.Finance)
	lb, bob, ann := leaseIDOf(t, b, "LB"), driverIDOf(t, b, "5000002"), driverIDOf(t, b, "5000001")

	// The form lists the lease found by VIN, with the toll time covered.
	_, body := b.get(t, finance, fmt.Sprintf("/ezpass/assign?ids=%d&q=1HGCM82633A000001", first))
	mustContain(t, body, `data-testid="choice-LB-5000002"`, "covers the toll", "No vehicle found for tag 9999")

	// Without HX-Request: 303 back to the queue.
	resp := b.post(t, finance, "/ezpass/assign", url.Values{"ids": {itoa(first)}, "choice": {fmt.Sprintf("%d:%d", lb, bob)}, "reason": {"tag not on file yet"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ezpass/failures" {
		t.Fatalf("assign: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if s, m, d := txnStatus(t, b, first); s != "associated" || m != "manual" || d != bob {
		t.Fatalf("after assign: %s %s %d", s, m, d)
	}
	// With HX-Request: 204 and HX-Redirect.
	req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/ezpass/assign",
		strings.NewReader(url.Values{"ids": {itoa(second)}, "choice": {fmt.Sprintf("%d:%d", lb, bob)}, "reason": {"same"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	hx, err := finance.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	hx.Body.Close()
	if hx.StatusCode != http.StatusNoContent || hx.Header.Get("HX-Redirect") != "/ezpass/failures" {
		t.Fatalf("htmx assign: %d %q", hx.StatusCode, hx.Header.Get("HX-Redirect"))
	}
	// Post, then re-associate the posted toll to Ann on LA: refused, LA ended before.
	// The button queues posting and goes back at once; the job posts.
	resp = b.post(t, finance, "/ezpass/post", url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ezpass/failures" {
		t.Fatalf("post: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if s, _, _ := txnStatus(t, b, first); s != "associated" {
		t.Fatalf("posted during the request: %s", s)
	}
	workMatchJobs(t, b)
	if s, _, _ := txnStatus(t, b, first); s != "posted" {
		t.Fatalf("not posted: %s", s)
	}
	resp = b.post(t, finance, "/ezpass/assign", url.Values{"ids": {itoa(first)}, "choice": {fmt.Sprintf("%d:%d", leaseIDOf(t, b, "LA"), ann)}, "reason": {"x"}})
	body = readAll(t, resp)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("uncovered lease: %d", resp.StatusCode)
	}
	mustContain(t, body, `data-testid="assign-error"`, "Lease LA (from 2025-01-01 00:00 EST to 2025-02-10 14:00 EST) did not cover the toll")
	// A missing reason re-renders the form with the field message.
	resp = b.post(t, finance, "/ezpass/assign", url.Values{"ids": {itoa(first)}, "choice": {fmt.Sprintf("%d:%d", lb, bob)}})
	if body = readAll(t, resp); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `data-testid="error-reason"`) {
		t.Fatalf("missing reason: %d", resp.StatusCode)
	}
	evs, _ := store.ListAudit(context.Background(), b.db.Pool, store.AuditFilter{SubjectType: "ezpass_transaction", SubjectID: itoa(first)})
	if len(evs) != 1 || evs[0].Reason != "tag not on file yet" || evs[0].Actor != store.UserActor(b.users[auth.Finance].ID) {
		t.Fatalf("audit = %+v", evs)
	}
	// The ledger shows Bob's balance, his statement and the journal.
	viewer := b.login(t, auth.Viewer)
	_, body = b.get(t, viewer, "/ledger")
	mustContain(t, body, fmt.Sprintf(`data-testid="balance-%d"`, bob), "$11.61", "Bob Driver")
	_, body = b.get(t, viewer, fmt.Sprintf("/ledger/drivers/%d", bob))
	mustContain(t, body, `data-testid="statement-balance">$11.61`, "RFK", "MTAB&amp;T", "manual")
	var jid int64
	b.db.Pool.QueryRow(context.Background(), `SELECT id FROM ledger_journals WHERE source_id = $1`, itoa(first)).Scan(&jid)
	_, body = b.get(t, viewer, fmt.Sprintf("/ledger/journals/%d", jid))
	mustContain(t, body, "EZPass toll - MTAB&amp;T - RFK - 9999", "driver:"+itoa(bob), "clearing:ezpass", "-$9.11")
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAPIAssignAssociateAndPost(t *testing.T) {
	t.Parallel()
	b := setup(t)
	matchFixture(t, b)
	toll := addToll(t, b, "9999", nyAt(3, 1, 8, 0), 911)
	call := func(role auth.Role, method, path string, body any) (int, map[string]any) {
		t.Helper()
		buf, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, b.srv.URL+path, bytes.NewReader(buf))
		req.Header.Set("Authorization", "Bearer "+b.token(t, role))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	st, out := call(auth.Finance, "POST", "/api/ezpass/associate", nil)
	if st != http.StatusAccepted || out["job_id"] == nil {
		t.Fatalf("associate: %d %v", st, out)
	}
	if outs := workMatchJobs(t, b); len(outs) != 1 || outs[0]["failed"].(map[string]any)["NO_VEHICLE"] != float64(1) {
		t.Fatalf("association job output: %v", outs)
	}
	path := fmt.Sprintf("/api/ezpass/transactions/%d", toll)
	if st, _ := call(auth.Viewer, "PUT", path, map[string]any{"lease_id": 1, "reason": "x"}); st != http.StatusForbidden {
		t.Fatalf("viewer PUT: %d", st)
	}
	st, out = call(auth.Finance, "PUT", path, map[string]any{"lease_id": leaseIDOf(t, b, "LA"), "reason": "x"})
	if st != http.StatusUnprocessableEntity || out["error"].(map[string]any)["code"] != "rule" ||
		!strings.Contains(out["error"].(map[string]any)["message"].(string), "did not cover the toll") {
		t.Fatalf("uncovered: %d %v", st, out)
	}
	st, out = call(auth.Finance, "PUT", path, map[string]any{"lease_id": leaseIDOf(t, b, "LB")})
	if st != http.StatusBadRequest || out["error"].(map[string]any)["fields"].(map[string]any)["reason"] == nil {
		t.Fatalf("no reason: %d %v", st, out)
	}
	st, out = call(auth.Finance, "PUT", path, map[string]any{"lease_id": leaseIDOf(t, b, "LB"), "reason": "known car"})
	if st != 200 || out["status"] != "associated" {
		t.Fatalf("assign: %d %v", st, out)
	}
	st, out = call(auth.Finance, "POST", "/api/ezpass/post", nil)
	if st != http.StatusAccepted || out["job_id"] == nil {
		t.Fatalf("post: %d %v", st, out)
	}
	// Two posting jobs: the one the assignment queued (auto-posting) posts
	// the toll, the requested one finds nothing left.
	if outs := workMatchJobs(t, b); len(outs) != 2 || outs[0]["posted"] != float64(1) || outs[0]["journals_inserted"] != float64(1) ||
		outs[1]["posted"] != float64(0) {
		t.Fatalf("posting job outputs: %v", outs)
	}
	if _, _, d := txnStatus(t, b, toll); d != driverIDOf(t, b, "5000002") {
		t.Fatalf("driver = %d", d)
	}
}

func upload(t *testing.T, b *bundle, c *http.Client, entity, name, content, mode string) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write([]byte(content))
	mw.WriteField("mode", mode)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/fleet/"+entity, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, readAll(t, resp)
}

func TestFleetUploadCheckLoadAndRefuse(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.login(t, auth.Admin)
	st, body := upload(t, b, admin, "medallions", "m.csv", "\ufeffNumber\r\n1A01\r\n1A02\r\n", "check")
	if st != 200 || !strings.Contains(body, "Checked only: nothing was written") || !strings.Contains(body, `data-testid="fleet-preview"`) {
		t.Fatalf("check: %d", st)
	}
	var n int
	b.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM medallions`).Scan(&n)
	if n != 0 {
		t.Fatalf("check only wrote %d medallions", n)
	}
	if st, _ := upload(t, b, admin, "medallions", "m.csv", "number\n1A01\n1A02\n", "load"); st != 200 {
		t.Fatalf("load: %d", st)
	}
	upload(t, b, admin, "vehicles", "v.csv", "vin,medallion\n1HGCM82633A000001,1A01\n", "load")
	upload(t, b, admin, "leases", "l.csv", "ref,vin,medallion,valid_from,valid_to\nL-99,1HGCM82633A000001,1A01,2025-01-01 00:00,2025-03-01 00:00\n", "load")
	st, body = upload(t, b, admin, "leases", "l2.csv",
		"ref,vin,medallion,valid_from,valid_to\nL-123,1HGCM82633A000001,1A01,2025-02-01 08:00,2025-04-01\nL-124,1HGCM82633A00000I,1A01,yesterday,\n", "load")
	if st != http.StatusUnprocessableEntity {
		t.Fatalf("bad leases: %d", st)
	}
	mustContain(t, body, `data-testid="fleet-errors"`, "A VIN has 17 letters", "Write the start as 2025-03-01 14:00")
	st, body = upload(t, b, admin, "leases", "l3.csv", "ref,vin,medallion,valid_from,valid_to\nL-123,1HGCM82633A000001,1A01,2025-02-01 08:00,2025-04-01\n", "load")
	if st != http.StatusUnprocessableEntity {
		t.Fatalf("overlap: %d", st)
	}
	mustContain(t, body, "Lease L-123 overlaps active lease L-99 of vehicle 1HGCM82633A000001 from 2025-01-01 00:00 EST to 2025-03-01 00:00 EST")
	st, body = upload(t, b, admin, "tags", "t.csv", "vin,tag\n", "load")
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, "The header lacks the column(s) valid_from") {
		t.Fatalf("missing column: %d", st)
	}
	b.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM leases`).Scan(&n)
	if n != 1 {
		t.Fatalf("leases = %d; want 1", n)
	}
	evs, _ := store.ListAudit(context.Background(), b.db.Pool, store.AuditFilter{Action: "fleet.upload"})
	if len(evs) != 3 {
		t.Fatalf("fleet audit events = %d; want 3", len(evs))
	}
	// Loads enqueue association in their transaction.
	b.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'ezpass.associate'`).Scan(&n)
	if n != 3 {
		t.Fatalf("association jobs = %d; want 3", n)
	}
	viewer := b.login(t, auth.Viewer)
	_, body = b.get(t, viewer, "/fleet/leases")
	mustContain(t, body, "L-99", "1HGCM82633A000001")
	if strings.Contains(body, `data-testid="fleet-upload"`) {
		t.Fatal("a viewer is offered the upload form")
	}
}
