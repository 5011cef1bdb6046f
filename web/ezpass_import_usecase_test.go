package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"

	"recondesk/internal/app"
	"recondesk/internal/auth"
	"recondesk/internal/jobs"
	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

// importTrace is what an import leaves behind, without ids and actors.
type importTrace struct {
	Import  map[string]any
	Txns    []string
	Audit   []string
	AssocOK bool
}

func traceImport(t *testing.T, db *pgtest.DB, id int64) importTrace {
	t.Helper()
	ctx := context.Background()
	imp, err := store.EZPassImportByID(ctx, db.Pool, id)
	if err != nil {
		t.Fatal(err)
	}
	s := imp.Summary()
	out, err := store.EZPassImportOutcomesOf(ctx, db.Pool, imp)
	if err != nil {
		t.Fatal(err)
	}
	s.Outcomes = &out
	js, _ := json.Marshal(s)
	var tr importTrace
	_ = json.Unmarshal(js, &tr.Import)
	for _, k := range []string{"id", "url", "created_by", "created_at", "started_at", "finished_at"} {
		delete(tr.Import, k)
	}
	rows, _ := db.Pool.Query(ctx, `SELECT concat_ws('|', account, dedupe_key, row_hash, kind, status, amount_cents, txn_at)
		FROM ezpass_transactions WHERE import_id = $1 ORDER BY line`, id)
	tr.Txns, _ = collectStrings(rows)
	rows, _ = db.Pool.Query(ctx, `SELECT concat_ws('|', action, subject_type, reason, after - 'created_by' - 'created_at' - 'started_at' - 'finished_at' - 'id' - 'url')
		FROM audit_events WHERE subject_type = 'ezpass_import' AND subject_id = $1 ORDER BY id`, fmt.Sprint(id))
	tr.Audit, _ = collectStrings(rows)
	return tr
}

func collectStrings(rows interface {
	Next() bool
	Scan(...any) error
	Close()
	Err() error
}) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// TestImportSameThroughAPIAndCLIUseCase (issue 7): the same file imported
// through the API (then the job's RunImport) and through ImportFile (what
// `recondesk ezpass import` calls) gives the same import, transactions,
// audit events and follow-up jobs.
func TestImportSameThroughAPIAndCLIUseCase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data := exportA(t, txRow("610001", "00812345678", "MTAB&T", 2, 694), txRow("610002", "NY T123456C", "PANYNJ", 3, 1606),
		txRow("610002", "NY T123456C", "PANYNJ", 3, 1606))

	// Through the API, then the worker's use case.
	b := setup(t)
	fin := b.token(t, auth.Finance)
	body, ct := multipartBody(t, "same.csv", data, "Main")
	req, _ := http.NewRequest("POST", b.srv.URL+"/api/ezpass/imports", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+fin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct{ ID int64 }
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || created.ID == 0 {
		t.Fatalf("API import: %d", resp.StatusCode)
	}
	driver := riverpgxv5.New(b.db.Pool)
	rivertest.RequireInserted(ctx, t, driver, &app.EZPassImportArgs{ImportID: created.ID}, nil)
	worker := app.New(app.Deps{Pool: b.db.Pool, Config: b.deps.Config})
	worker.UseJobs(b.deps.River)
	if _, err := worker.RunImport(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	viaAPI := traceImport(t, b.db, created.ID)
	assoc := rivertest.RequireInserted(ctx, t, driver, &app.EZPassAssociateArgs{}, nil)
	viaAPI.AssocOK = assoc.Args.ImportID == created.ID && assoc.Args.Trigger == "import"

	// Through the CLI's use case on another database.
	db := pgtest.New(t)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	a := app.New(app.Deps{Pool: db.Pool, Logger: log, Config: b.deps.Config})
	if _, err := jobs.NewClient(jobs.Deps{App: a, Pool: db.Pool, Logger: log}, jobs.RoleWeb); err != nil {
		t.Fatal(err)
	}
	imp, err := a.ImportFile(ctx, app.System("cli"), bytes.NewReader(data), "same.csv", "Main")
	if err != nil {
		t.Fatal(err)
	}
	cliDriver := riverpgxv5.New(db.Pool)
	rivertest.RequireInserted(ctx, t, cliDriver, &app.EZPassImportArgs{ImportID: imp.ID}, nil)
	viaCLI := traceImport(t, db, imp.ID)
	cliAssoc := rivertest.RequireInserted(ctx, t, cliDriver, &app.EZPassAssociateArgs{}, nil)
	viaCLI.AssocOK = cliAssoc.Args.ImportID == imp.ID && cliAssoc.Args.Trigger == "import"

	if !reflect.DeepEqual(viaAPI, viaCLI) {
		t.Errorf("API and CLI imports differ:\n API %+v\n CLI %+v", viaAPI, viaCLI)
	}
	if viaAPI.Import["status"] != "succeeded" || viaAPI.Import["account"] != "main" || len(viaAPI.Txns) != 2 || len(viaAPI.Audit) != 2 || !viaAPI.AssocOK {
		t.Errorf("import via API %+v; want succeeded under main, 2 transactions, 2 audit events, association queued", viaAPI)
	}
}

// TestImportUnknownAccountRefused (issue 8 item 2): with EZPASS_ACCOUNTS set,
// the API answers 400 with the account field and the page shows the message.
func TestImportUnknownAccountRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	d := b.deps
	d.Config.EZPassAccounts = []string{"main", "fleet2"}
	srv := httptest.NewServer(NewServer(d))
	t.Cleanup(srv.Close)
	fin := b.token(t, auth.Finance)
	data := exportA(t, txRow("620001", "00812345678", "MTAB&T", 2, 694))

	body, ct := multipartBody(t, "a.csv", data, "fleet-9")
	req, _ := http.NewRequest("POST", srv.URL+"/api/ezpass/imports", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+fin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Error struct {
			Code    string
			Message string
			Fields  map[string]string
		}
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	want := `"fleet-9" is not a configured E-ZPass account; use one of: main, fleet2 (EZPASS_ACCOUNTS).`
	if resp.StatusCode != http.StatusBadRequest || out.Error.Code != "invalid" || out.Error.Fields["account"] != want {
		t.Errorf("API: %d %+v; want 400 with the account field", resp.StatusCode, out.Error)
	}

	c := b.login(t, auth.Finance)
	body, ct = multipartBody(t, "a.csv", data, "fleet-9")
	req, _ = http.NewRequest("POST", srv.URL+"/ezpass/imports", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("HX-Request", "true")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !bytes.Contains(page, []byte(`data-testid="upload-refused"`)) ||
		!bytes.Contains(page, []byte("is not a configured E-ZPass account")) {
		t.Errorf("form: %d %s", resp.StatusCode, page)
	}
	if n := b.count(t, `SELECT count(*) FROM ezpass_imports`); n != 0 {
		t.Errorf("%d imports recorded; want none", n)
	}
}

func (b *bundle) count(t *testing.T, sql string) int {
	t.Helper()
	var n int
	if err := b.db.Pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
