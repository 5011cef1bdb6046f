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

func TestEZPassImportCommand(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	samples, err := demo.EZPassSamples(demo.Generate(demo.Options{Seed: 3, Vehicles: 30}))
	if err != nil {
		t.Fatal(err)
	}
	s := samples[0]
	path := filepath.Join(t.TempDir(), s.Name)
	if err := os.WriteFile(path, s.Data, 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string { return map[string]string{"DATABASE_URL": db.URL}[k] }
	var out, errOut bytes.Buffer
	// The flag may follow the file.
	if err := run(context.Background(), []string{"ezpass", "import", path, "--account", "fleet-9"}, env, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("ezpass import: %v\n%s", err, errOut.String())
	}
	var got struct {
		Import struct {
			ID       int64
			Status   string
			Format   string
			Account  string
			Counts   map[string]int
			Kinds    map[string]int
			Outcomes struct {
				ByKind   map[string]map[string]int `json:"by_kind"`
				Statuses map[string]int
			}
		}
		Association *struct {
			Candidates int
			Failed     map[string]int
		}
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	k := s.Kinds()
	matchable := k["toll"] + k["credit"]
	if got.Import.Status != "succeeded" || got.Import.Format != "A" || got.Import.Account != "fleet-9" ||
		got.Import.Counts["inserted"] != len(s.Rows) || got.Import.Kinds["toll"] != k["toll"] ||
		got.Import.Outcomes.ByKind["toll"]["inserted"] != k["toll"] {
		t.Errorf("summary %+v", got.Import)
	}
	// No fleet is loaded, so association finds no vehicle for any toll or credit.
	if got.Association == nil || got.Association.Candidates != matchable || got.Association.Failed["NO_VEHICLE"] != matchable ||
		got.Import.Outcomes.Statuses["association_failed"] != matchable {
		t.Errorf("association %+v, statuses %v; want %d candidates without vehicle", got.Association, got.Import.Outcomes.Statuses, matchable)
	}

	// The same file again is refused, naming the first import.
	out.Reset()
	err = run(context.Background(), []string{"ezpass", "import", "--account", "x", path}, env, strings.NewReader(""), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "already imported as import #") {
		t.Errorf("second import: %v", err)
	}
	for _, args := range [][]string{{"ezpass", "import"}, {"ezpass", "import", "a.csv", "b.csv"}, {"ezpass", "import", "--bogus", path}} {
		if err := run(context.Background(), args, env, strings.NewReader(""), &out, &errOut); err == nil || !strings.Contains(err.Error(), "usage: recondesk ezpass import") {
			t.Errorf("%v: %v; want the usage", args, err)
		}
	}
	// An unknown format prints the summary and fails.
	bad := filepath.Join(t.TempDir(), "bad.csv")
	_ = os.WriteFile(bad, []byte("Foo,Bar\n1,2\n"), 0o600)
	out.Reset()
	err = run(context.Background(), []string{"ezpass", "import", bad}, env, strings.NewReader(""), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "failed: This file is not a known E-ZPass export") || !strings.Contains(out.String(), `"status": "failed"`) {
		t.Errorf("unknown format: %v\n%s", err, out.String())
	}
}

func TestSeedEZPassFilesIdempotent(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	cfg, err := config.Load(func(k string) string { return map[string]string{"DATABASE_URL": db.URL}[k] })
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	env := seedEnv{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil)), pool: db.Pool, stdout: &out}
	if err := seedFleet(ctx, env); err != nil {
		t.Fatal(err)
	}
	if err := seedEZPassFiles(ctx, env); err != nil {
		t.Fatal(err)
	}
	count := func() (imports, txns int) {
		_ = db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM ezpass_imports), (SELECT count(*) FROM ezpass_transactions)`).Scan(&imports, &txns)
		return
	}
	imports, txns := count()
	if imports != 3 || txns == 0 {
		t.Fatalf("after seeding: %d imports, %d transactions; want 3 imports", imports, txns)
	}
	// Every outcome of the demo is present.
	rows, err := db.Pool.Query(ctx, `SELECT DISTINCT CASE WHEN status IN ('associated', 'posted') THEN 'by ' || match_method
		WHEN status = 'association_failed' THEN failure_code ELSE kind || ':' || status END FROM ezpass_transactions`)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		seen[s] = true
	}
	for _, want := range []string{"by tag", "by plate", "NO_VEHICLE", "NO_ACTIVE_LEASE", "NO_DRIVER", "payment:excluded", "tag_fee:excluded", "excluded:excluded"} {
		if !seen[want] {
			t.Errorf("demo lacks outcome %q (has %v)", want, seen)
		}
	}
	var conflicts, dups int
	_ = db.Pool.QueryRow(ctx, `SELECT sum(conflicts), sum(duplicates) FROM ezpass_imports`).Scan(&conflicts, &dups)
	if conflicts != 1 || dups != 8 {
		t.Errorf("%d conflicts, %d duplicates across the samples; want 1 and 8", conflicts, dups)
	}

	out.Reset()
	if err := seedEZPassFiles(ctx, env); err != nil {
		t.Fatal(err)
	}
	if i2, t2 := count(); i2 != imports || t2 != txns {
		t.Errorf("seeding twice: %d imports, %d transactions; want %d, %d", i2, t2, imports, txns)
	}
	if !strings.Contains(out.String(), "already imported") {
		t.Errorf("second seed output %q", out.String())
	}
}
