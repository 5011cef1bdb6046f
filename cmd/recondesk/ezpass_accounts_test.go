package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"recondesk/internal/config"
	"recondesk/internal/demo"
	"recondesk/internal/pgtest"
)

// TestEZPassSameTollsUnderAnotherAccountNeverChargedTwice (issue 8 item 2):
// an export imported and posted under "main" is imported again (other bytes)
// under another configured account and as "MAIN": nothing new is stored, so
// posting charges no driver twice; an unknown account is refused.
func TestEZPassSameTollsUnderAnotherAccountNeverChargedTwice(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	getenv := func(k string) string {
		return map[string]string{"DATABASE_URL": db.URL, "EZPASS_ACCOUNTS": "main, Fleet2"}[k]
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		t.Fatal(err)
	}
	env := seedEnv{cfg: cfg, log: slog.New(slog.NewJSONHandler(io.Discard, nil)), pool: db.Pool, stdout: io.Discard}
	if err := seedFleet(ctx, env); err != nil {
		t.Fatal(err)
	}
	samples, err := demo.EZPassSamples(demo.Generate(demoFleetOptions(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	importAs := func(name string, data []byte, account string) (map[string]any, error) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		err := run(ctx, []string{"ezpass", "import", path, "--account", account}, getenv, strings.NewReader(""), &out, &errOut)
		var got struct {
			Import map[string]any
		}
		_ = json.Unmarshal(out.Bytes(), &got)
		return got.Import, err
	}
	post := func() {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(ctx, []string{"ezpass", "post"}, getenv, strings.NewReader(""), &out, &errOut); err != nil {
			t.Fatalf("post: %v %s", err, errOut.String())
		}
	}
	charged := func() (journals int, cents int64) {
		t.Helper()
		err := db.Pool.QueryRow(ctx, `SELECT count(DISTINCT j.id), coalesce(sum(e.amount_cents) FILTER (WHERE e.amount_cents > 0), 0)
			FROM ledger_journals j JOIN ledger_entries e ON e.journal_id = j.id WHERE j.source_type = 'EZPASS'`).Scan(&journals, &cents)
		if err != nil {
			t.Fatal(err)
		}
		return journals, cents
	}

	s := samples[0]
	first, err := importAs("first.csv", s.Data, "main")
	if err != nil || first["status"] != "succeeded" || first["account"] != "main" {
		t.Fatalf("first import: %v %v", err, first)
	}
	post()
	journals, cents := charged()
	if journals == 0 || cents == 0 {
		t.Fatalf("nothing was charged by the first import (%d journals)", journals)
	}

	// Unknown account: refused, naming the configured ones.
	if _, err := importAs("other.csv", append(append([]byte{}, s.Data...), '\n'), "fleet-9"); err == nil ||
		!strings.Contains(err.Error(), "not a configured E-ZPass account") || !strings.Contains(err.Error(), "main, fleet2") {
		t.Errorf("unknown account: %v", err)
	}
	// The same rows under the other configured account, then as "MAIN".
	for i, account := range []string{"FLEET2", "MAIN"} {
		data := append(append([]byte{}, s.Data...), bytes.Repeat([]byte("\n"), i+2)...)
		got, err := importAs(account+".csv", data, account)
		counts, _ := got["counts"].(map[string]any)
		if err != nil || got["status"] != "succeeded" || got["account"] != strings.ToLower(account) ||
			counts["inserted"] != 0.0 || counts["duplicates"] != float64(len(s.Rows)) {
			t.Errorf("import as %s: %v %v; want succeeded, nothing inserted, %d duplicates", account, err, got, len(s.Rows))
		}
		post()
		if j, c := charged(); j != journals || c != cents {
			t.Errorf("after import as %s: %d journals, %d cents charged; want still %d, %d", account, j, c, journals, cents)
		}
	}
	var postable int
	_ = db.Pool.QueryRow(ctx, `SELECT count(*) FROM ezpass_transactions WHERE account <> 'main' AND status <> 'conflict'`).Scan(&postable)
	if postable != 0 {
		t.Errorf("%d postable transactions stored under the other labels; want 0", postable)
	}
}
