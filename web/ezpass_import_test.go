package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"recondesk/internal/auth"
	"recondesk/internal/demo"
	"recondesk/internal/ezpass"
	"recondesk/internal/store"
)

// ezpassImportMatrix lists the import, transaction and E-ZPass API routes.
var ezpassImportMatrix = []access{
	{"GET", "/ezpass/imports", auth.Viewer, false},
	{"POST", "/ezpass/imports", auth.Finance, false},
	{"GET", "/ezpass/imports/{id}", auth.Viewer, false},
	{"GET", "/ezpass/imports/{id}/progress", auth.Viewer, false},
	{"GET", "/ezpass/imports/{id}/errors.csv", auth.Finance, false},
	{"GET", "/ezpass/imports/{id}/file", auth.Finance, false},
	{"GET", "/ezpass/transactions", auth.Viewer, false},
	{"GET", "/ezpass/transactions/export.csv", auth.Finance, false},
	{"GET", "/ezpass/transactions/export.xlsx", auth.Finance, false},
	{"GET", "/ezpass/transactions/{id}", auth.Viewer, false},
	{"POST", "/api/ezpass/imports", auth.Finance, true},
	{"GET", "/api/ezpass/imports/{id}", auth.Viewer, true},
	{"GET", "/api/ezpass/transactions", auth.Viewer, true},
	{"GET", "/api/ezpass/transactions/{id}", auth.Viewer, true},
}

var testNYC = func() *time.Location {
	l, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	return l
}()

// txRow is a format A toll for the tests.
func txRow(lane, tagOrPlate, agency string, day int, cents int64) demo.EZPassRow {
	return demo.EZPassRow{LaneTxnID: lane, TagOrPlate: tagOrPlate, Agency: agency, ExitPlaza: "VERRAZANO", Class: "1",
		At: time.Date(2026, 1, day, 8, 0, 0, 0, testNYC), Cents: cents, Kind: ezpass.KindToll}
}

func exportA(t *testing.T, rows ...demo.EZPassRow) []byte {
	t.Helper()
	var b bytes.Buffer
	err := demo.WriteEZPassCSV(&b, ezpass.FormatA, testNYC, func(yield func(demo.EZPassRow) bool) {
		for _, r := range rows {
			if !yield(r) {
				return
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// multipartBody builds an upload of data as "file" (and "account" when set).
func multipartBody(t *testing.T, name string, data []byte, account string) (*bytes.Buffer, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if account != "" {
		_ = mw.WriteField("account", account)
	}
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return &body, mw.FormDataContentType()
}

// upload posts a file to the Imports page (or the API with a token).
func (b *bundle) upload(t *testing.T, c *http.Client, path, name string, data []byte, header ...string) (*http.Response, string) {
	t.Helper()
	body, ct := multipartBody(t, name, data, "")
	req, _ := http.NewRequest(http.MethodPost, b.srv.URL+path, body)
	req.Header.Set("Content-Type", ct)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, string(out)
}

// runQueued runs the import job's work inline (the test server does not work jobs).
func (b *bundle) runQueued(t *testing.T, id int64) store.EZPassImport {
	t.Helper()
	imp, err := store.RunEZPassImport(context.Background(), b.db.Pool, id, store.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return imp
}

var importPath = regexp.MustCompile(`^/ezpass/imports/(\d+)$`)

func TestEZPassImportUploadPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	fin := b.login(t, auth.Finance)
	data := exportA(t, txRow("100001", "00812345678", "MTAB&T", 2, 694), txRow("100002", "NY T123456C", "PANYNJ", 3, 1606))
	data = append(data, []byte("100003,00812345678,MTAB&T,,VERRAZANO,1,01/04/2026,08:00:00 AM,oops\r\n")...)

	resp, _ := b.upload(t, fin, "/ezpass/imports", "jan.csv", data)
	m := importPath.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("upload: %d to %q; want 303 to the import", resp.StatusCode, resp.Header.Get("Location"))
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	var jobs int
	_ = b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'ezpass.import' AND (args->>'import_id')::bigint = $1`, id).Scan(&jobs)
	if jobs != 1 {
		t.Fatalf("%d import jobs enqueued; want 1", jobs)
	}
	// While queued, the progress fragment polls itself.
	_, frag := b.get(t, fin, fmt.Sprintf("/ezpass/imports/%d/progress", id), "HX-Request", "true")
	mustContain(t, frag, `data-status="queued"`, `hx-trigger="every 1s"`)
	if strings.Contains(frag, "<html") {
		t.Error("progress fragment is a full page")
	}

	imp := b.runQueued(t, id)
	if imp.Status != store.ImportPartial || imp.Inserted != 2 || imp.Errors != 1 {
		t.Fatalf("import: %s inserted %d errors %d", imp.Status, imp.Inserted, imp.Errors)
	}
	_, frag = b.get(t, fin, fmt.Sprintf("/ezpass/imports/%d/progress", id), "HX-Request", "true")
	mustContain(t, frag, `data-status="partial"`, `data-testid="import-summary"`, `data-testid="count-inserted">2<`, `data-testid="count-errors">1<`)
	if strings.Contains(frag, "hx-trigger") {
		t.Error("a finished import still polls")
	}
	_, page := b.get(t, fin, fmt.Sprintf("/ezpass/imports/%d", id))
	mustContain(t, page, "<html", `data-testid="kind-outcomes"`, `data-testid="import-error"`, "oops", "errors.csv")
	var audits int
	_ = b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE subject_type = 'ezpass_import' AND subject_id = $1
		AND actor = $2`, strconv.FormatInt(id, 10), store.UserActor(b.users[auth.Finance].ID)).Scan(&audits)
	if audits != 2 {
		t.Errorf("%d audit events by the uploader; want upload and import", audits)
	}

	// The row errors download as CSV.
	resp, csvText := b.get(t, fin, fmt.Sprintf("/ezpass/imports/%d/errors.csv", id))
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("errors.csv: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if want := "Row,Column,Value,Problem\n4,Amount,oops,Amount 'oops' is not a dollar amount like $9.11.\n"; csvText != want {
		t.Errorf("errors.csv = %q; want %q", csvText, want)
	}
	// The original file downloads unchanged.
	if _, orig := b.get(t, fin, fmt.Sprintf("/ezpass/imports/%d/file", id)); orig != string(data) {
		t.Errorf("original file differs: %d bytes, want %d", len(orig), len(data))
	}

	// The same file again is refused with a link to the first import.
	resp, body := b.upload(t, fin, "/ezpass/imports", "again.csv", data, "HX-Request", "true")
	link := fmt.Sprintf(`href="/ezpass/imports/%d"`, id)
	if resp.StatusCode != http.StatusConflict || resp.Header.Get("HX-Retarget") != "#upload-result" {
		t.Errorf("same file (htmx): %d retarget %q; want 409 into #upload-result", resp.StatusCode, resp.Header.Get("HX-Retarget"))
	}
	mustContain(t, body, `data-testid="upload-refused"`, link, "already imported")
	resp, body = b.upload(t, fin, "/ezpass/imports", "again.csv", data)
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("same file: %d; want 409", resp.StatusCode)
	}
	mustContain(t, body, "<html", link)

	// An htmx upload of a new file answers with the progress fragment.
	resp, body = b.upload(t, fin, "/ezpass/imports", "feb.csv", exportA(t, txRow("100009", "00812345678", "MTAB&T", 9, 694)), "HX-Request", "true")
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "<html") {
		t.Errorf("htmx upload: %d; want 200 with the fragment", resp.StatusCode)
	}
	mustContain(t, body, `data-testid="import-progress"`, `data-status="queued"`, "feb.csv")

	// The history lists both.
	_, list := b.get(t, fin, "/ezpass/imports")
	mustContain(t, list, `data-testid="dropzone"`, "jan.csv", "feb.csv", "/static/js/dropzone.js")
	if n := strings.Count(list, `data-testid="import-row"`); n != 2 {
		t.Errorf("%d imports in the history; want 2", n)
	}
	// A viewer sees the history but no upload form.
	_, list = b.get(t, b.login(t, auth.Viewer), "/ezpass/imports")
	if strings.Contains(list, `data-testid="upload-form"`) || !strings.Contains(list, "jan.csv") {
		t.Error("viewer: want the history without the upload form")
	}
}

func TestEZPassImportUploadTooLarge(t *testing.T) {
	t.Parallel()
	b := setup(t)
	d := b.deps
	d.Config.MaxUploadMB = 1
	srv := httptest.NewServer(NewServer(d))
	t.Cleanup(srv.Close)
	fin := b.login(t, auth.Finance)
	big := bytes.Repeat([]byte("x"), 3<<19) // 1.5 MB
	const want = "The file is 1.5 MB; the limit is 1 MB (MAX_UPLOAD_MB). Split the export by month and upload each part."

	body, ct := multipartBody(t, "big.csv", big, "")
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/ezpass/imports", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("HX-Request", "true")
	resp, err := fin.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(out), want) {
		t.Errorf("page upload: %d %q; want 413 with %q", resp.StatusCode, out, want)
	}

	// Through the API, and without a Content-Length (streamed): the limit still holds.
	tok := b.token(t, auth.Finance)
	body, ct = multipartBody(t, "big.csv", big, "")
	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/api/ezpass/imports", io.MultiReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Error struct{ Code, Message string }
	}
	_ = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || e.Error.Code != "too_large" ||
		!strings.Contains(e.Error.Message, "larger than 1.0 MB; the limit is 1 MB (MAX_UPLOAD_MB)") {
		t.Errorf("API streamed upload: %d %+v; want 413 too_large", resp.StatusCode, e)
	}
	var n int
	_ = b.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM ezpass_imports`).Scan(&n)
	if n != 0 {
		t.Errorf("%d imports recorded; want none", n)
	}
}

// loadTxns imports rows through the store and returns the import.
func (b *bundle) loadTxns(t *testing.T, name string, data []byte) store.EZPassImport {
	t.Helper()
	resp, _ := b.upload(t, b.login(t, auth.Finance), "/ezpass/imports", name, data)
	m := importPath.FindStringSubmatch(resp.Header.Get("Location"))
	if m == nil {
		t.Fatalf("upload %s: %d", name, resp.StatusCode)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return b.runQueued(t, id)
}

// TestEZPassPagesFullAndFragment requests every page with and without HX-Request.
func TestEZPassPagesFullAndFragment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	imp := b.loadTxns(t, "pages.csv", exportA(t, txRow("200001", "00812345678", "MTAB&T", 2, 694)))
	var txnID int64
	_ = b.db.Pool.QueryRow(context.Background(), `SELECT id FROM ezpass_transactions`).Scan(&txnID)
	c := b.login(t, auth.Viewer)
	for _, p := range []struct{ path, marker string }{
		{"/ezpass/imports", "pages.csv"},
		{fmt.Sprintf("/ezpass/imports/%d", imp.ID), `data-testid="kind-outcomes"`},
		{fmt.Sprintf("/ezpass/imports/%d/progress", imp.ID), `data-testid="import-progress"`},
		{"/ezpass/transactions", `data-testid="txn-row"`},
		{fmt.Sprintf("/ezpass/transactions/%d", txnID), `data-testid="match-trail"`},
		{"/", `data-testid="ezpass-panel"`},
	} {
		resp, full := b.get(t, c, p.path)
		if resp.StatusCode != 200 || !strings.Contains(full, "<html") || !strings.Contains(full, p.marker) {
			t.Errorf("GET %s: %d, full page %v, marker %v", p.path, resp.StatusCode, strings.Contains(full, "<html"), strings.Contains(full, p.marker))
		}
		if p.path == "/" {
			continue // Home has no fragment
		}
		resp, frag := b.get(t, c, p.path, "HX-Request", "true")
		if resp.StatusCode != 200 || strings.Contains(frag, "<html") || !strings.Contains(frag, p.marker) ||
			!strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "HX-Request") {
			t.Errorf("GET %s (htmx): %d, full page %v, marker %v", p.path, resp.StatusCode, strings.Contains(frag, "<html"), strings.Contains(frag, p.marker))
		}
	}
	// Unknown ids are 404 pages.
	for _, p := range []string{"/ezpass/imports/424242", "/ezpass/transactions/424242", "/ezpass/imports/abc"} {
		if resp, _ := b.get(t, c, p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d; want 404", p, resp.StatusCode)
		}
	}
}

func TestEZPassHomePanel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.loadTxns(t, "home.csv", exportA(t,
		txRow("300001", "00812345678", "MTAB&T", 2, 694), txRow("300002", "00812345678", "MTAB&T", 3, 694),
		txRow("300003", "00812345678", "MTAB&T", 4, 694), txRow("300004", "00812345678", "MTAB&T", 5, 694)))
	// Association is another module's: mark one matched, one failed, as it would.
	if _, err := b.db.Pool.Exec(ctx, `UPDATE ezpass_transactions SET status = CASE dedupe_key
		WHEN '300001' THEN 'associated' WHEN '300002' THEN 'association_failed' ELSE status END,
		failure_code = CASE dedupe_key WHEN '300002' THEN 'NO_VEHICLE' ELSE '' END`); err != nil {
		t.Fatal(err)
	}
	// A posted toll this week: a balanced journal.
	tx, err := b.db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	var driverID, journalID int64
	_ = tx.QueryRow(ctx, `INSERT INTO drivers (name, tlc_license) VALUES ('Ada Driver', '5999999') RETURNING id`).Scan(&driverID)
	_ = tx.QueryRow(ctx, `INSERT INTO ledger_journals (source_type, source_id, kind, txn_at, description, created_by)
		VALUES ('EZPASS', '1', 'charge', now(), 'test', 'system:test') RETURNING id`).Scan(&journalID)
	if _, err := tx.Exec(ctx, `INSERT INTO ledger_entries (journal_id, account, amount_cents, driver_id) VALUES
		($1, $2, 1234, $3), ($1, 'clearing:ezpass', -1234, NULL)`, journalID, fmt.Sprintf("driver:%d", driverID), driverID); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	_, home := b.get(t, b.login(t, auth.Viewer), "/")
	mustContain(t, home, `data-testid="panel-tolls">4<`, `data-testid="panel-matched">25.0 %<`, `data-testid="panel-failures">1<`,
		`href="/ezpass/failures"`, "$12.34")
	if n := strings.Count(home, `data-testid="week-bar"`); n != 8 {
		t.Errorf("%d weekly bars; want 8", n)
	}
}

func TestEZPassImportAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	fin, viewer := b.token(t, auth.Finance), b.token(t, auth.Viewer)
	data := exportA(t, txRow("400001", "00812345678", "MTAB&T", 2, 694), txRow("400002", "NY T123456C", "PANYNJ", 3, 1606))
	call := func(method, path, token string, body io.Reader, ct string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, b.srv.URL+path, body)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	errCode := func(out map[string]any) string {
		e, _ := out["error"].(map[string]any)
		s, _ := e["code"].(string)
		return s
	}

	body, ct := multipartBody(t, "api.csv", data, "fleet-7")
	if st, out := call("POST", "/api/ezpass/imports", viewer, body, ct); st != 403 || errCode(out) != "forbidden" {
		t.Errorf("viewer import: %d %v; want 403", st, out)
	}
	if st, _ := call("POST", "/api/ezpass/imports", "", nil, ""); st != 401 {
		t.Errorf("anonymous import: %d; want 401", st)
	}
	body, ct = multipartBody(t, "api.csv", data, "fleet-7")
	st, out := call("POST", "/api/ezpass/imports", fin, body, ct)
	id, _ := out["id"].(float64)
	if st != http.StatusAccepted || id == 0 || out["status"] != "queued" {
		t.Fatalf("import: %d %v; want 202 with the id", st, out)
	}
	st, out = call("GET", fmt.Sprintf("/api/ezpass/imports/%d", int64(id)), viewer, nil, "")
	if st != 200 || out["status"] != "queued" || out["account"] != "fleet-7" {
		t.Errorf("status while queued: %d %v", st, out)
	}
	b.runQueued(t, int64(id))
	st, out = call("GET", fmt.Sprintf("/api/ezpass/imports/%d", int64(id)), viewer, nil, "")
	counts, _ := out["counts"].(map[string]any)
	kinds, _ := out["kinds"].(map[string]any)
	if st != 200 || out["status"] != "succeeded" || out["format"] != "A" || counts["inserted"] != 2.0 || kinds["toll"] != 2.0 || out["outcomes"] == nil {
		t.Errorf("status when done: %d %v", st, out)
	}

	// Same file: 409 naming the first import; no file: 400; unknown import: 404.
	body, ct = multipartBody(t, "api.csv", data, "")
	st, out = call("POST", "/api/ezpass/imports", fin, body, ct)
	e, _ := out["error"].(map[string]any)
	if st != 409 || errCode(out) != "conflict" || e["import_id"] != id {
		t.Errorf("same file: %d %v; want 409 with import_id %v", st, out, id)
	}
	var empty bytes.Buffer
	mw := multipart.NewWriter(&empty)
	_ = mw.WriteField("account", "x")
	mw.Close()
	if st, out := call("POST", "/api/ezpass/imports", fin, &empty, mw.FormDataContentType()); st != 400 || errCode(out) != "invalid" {
		t.Errorf("no file: %d %v; want 400", st, out)
	}
	if st, out := call("POST", "/api/ezpass/imports", fin, strings.NewReader("{}"), "application/json"); st != 400 {
		t.Errorf("JSON body: %d %v; want 400", st, out)
	}
	if st, _ := call("GET", "/api/ezpass/imports/99999", viewer, nil, ""); st != 404 {
		t.Errorf("unknown import: %d; want 404", st)
	}

	// Transactions: filters and one transaction.
	st, out = call("GET", "/api/ezpass/transactions?agency=panynj&account=x", viewer, nil, "")
	list, _ := out["transactions"].([]any)
	if st != 200 || len(list) != 1 || out["next_cursor"] != "" {
		t.Fatalf("filtered list: %d %v", st, out)
	}
	one, _ := list[0].(map[string]any)
	if one["plate"] != "T123456C" || one["plate_state"] != "NY" || one["amount_cents"] != 1606.0 || one["status"] != "imported" {
		t.Errorf("transaction %v", one)
	}
	st, out = call("GET", fmt.Sprintf("/api/ezpass/transactions/%d", int64(one["id"].(float64))), viewer, nil, "")
	raw, _ := out["raw"].(map[string]any)
	if st != 200 || raw["Lane Txn ID"] != "400002" || raw["Amount"] != "$-16.06" {
		t.Errorf("one transaction: %d %v", st, out)
	}
	for _, q := range []string{"sort=bogus", "status=lost", "from=31/01/2026", "limit=0", "cursor=garbage", "import=x"} {
		if st, out := call("GET", "/api/ezpass/transactions?"+q, viewer, nil, ""); st != 400 || errCode(out) != "invalid" {
			t.Errorf("?%s: %d %v; want 400", q, st, out)
		}
	}
	if st, _ := call("GET", "/api/ezpass/transactions/77777", viewer, nil, ""); st != 404 {
		t.Errorf("unknown transaction: %d; want 404", st)
	}
}
