package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"recondesk/internal/config"
	"recondesk/internal/pgtest"
)

// TestSeedFleetAndEZPassAssociatePost loads the demo fleet twice (the
// second adds nothing) and runs `ezpass associate` and `ezpass post`.
func TestSeedFleetAndEZPassAssociatePost(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	getenv := func(k string) string {
		return map[string]string{"DATABASE_URL": db.URL, "EZPASS_AUTO_POST": "false"}[k]
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	env := seedEnv{cfg: cfg, log: slog.New(slog.NewJSONHandler(io.Discard, nil)), pool: db.Pool, stdout: &out}
	if err := seedFleet(ctx, env); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "demo fleet: 320 vehicles") {
		t.Fatalf("first seed printed %q", out.String())
	}
	out.Reset()
	if err := seedFleet(ctx, env); err != nil || out.Len() != 0 {
		t.Fatalf("second seed: %v, printed %q", err, out.String())
	}
	var leases int
	db.Pool.QueryRow(ctx, `SELECT count(*) FROM leases`).Scan(&leases)
	if leases < 1200 {
		t.Fatalf("%d leases", leases)
	}
	db.Pool.Exec(ctx, `WITH i AS (INSERT INTO ezpass_imports (account, file_name, size_bytes, sha256, created_by) VALUES ('main', 'a', 1, 'a', 't') RETURNING id)
		INSERT INTO ezpass_transactions (account, dedupe_key, row_hash, import_id, line, kind, tag_or_plate, tag, agency, exit_plaza, txn_at, amount_cents, raw)
		SELECT 'main', 'k1', 'h', i.id, 2, 'toll', t.tag, t.tag, 'MTAB&T', 'RFK', lower(l.valid) + interval '1 hour', 911, '{}'
		FROM i, (SELECT * FROM tag_bindings ORDER BY id LIMIT 1) t JOIN leases l ON l.vehicle_id = t.vehicle_id
		JOIN lease_drivers ld ON ld.lease_id = l.id AND ld.is_primary WHERE upper(t.valid) IS NULL AND lower(l.valid) > lower(t.valid) LIMIT 1`)
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"ezpass", "associate"}, getenv, strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Fatalf("associate: %v %s", err, stderr.String())
	}
	var a map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &a); err != nil || a["associated_by_tag"] != float64(1) || a["candidates"] != float64(1) {
		t.Fatalf("associate printed %s (%v)", stdout.String(), err)
	}
	stdout.Reset()
	if err := run(ctx, []string{"ezpass", "post"}, getenv, strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Fatalf("post: %v", err)
	}
	var p map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &p); err != nil || p["posted"] != float64(1) || p["amount_cents"] != float64(911) {
		t.Fatalf("post printed %s (%v)", stdout.String(), err)
	}
	stdout.Reset()
	run(ctx, []string{"ezpass", "post"}, getenv, strings.NewReader(""), &stdout, &stderr)
	if err := json.Unmarshal(stdout.Bytes(), &p); err != nil || p["journals_inserted"] != float64(0) {
		t.Fatalf("second post printed %s", stdout.String())
	}
}
