package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

func TestCmdFaultyTick(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ids, err := store.CreateLadderFixture(context.Background(), db.Pool, store.LadderFixture{Batches: 2, Items: 2,
		TrackedAt: time.Date(2026, 2, 12, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": db.URL}
	tick := func(args ...string) (map[string]any, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"faulty", "tick"}, args...), func(k string) string { return env[k] },
			strings.NewReader(""), &out, io.Discard)
		if err != nil {
			return nil, err
		}
		var v map[string]any
		if err := json.Unmarshal(out.Bytes(), &v); err != nil {
			t.Fatalf("output is not JSON: %s", out.String())
		}
		return v, nil
	}
	if _, err := tick("--now", "16 Feb"); err == nil || !strings.Contains(err.Error(), "RFC 3339") {
		t.Errorf("bad --now = %v; want an error naming RFC 3339", err)
	}
	// Before the 16th at 09:00 nothing is due.
	v, err := tick("--now", "2026-02-16T08:59:00Z")
	if err != nil {
		t.Fatal(err)
	}
	if v["emails_decided"].(float64) != 0 || v["batches_evaluated"].(float64) != 2 {
		t.Errorf("before the send hour: %v", v)
	}
	v, err = tick("--now", "2026-02-21T10:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	batches := v["batches"].([]any)
	if v["emails_decided"].(float64) != 2 || len(batches) != 2 {
		t.Fatalf("on the 21st: %v", v)
	}
	steps := batches[0].(map[string]any)["steps"].([]any)
	if len(steps) != 2 || steps[0].(map[string]any)["level"] != "reminder" || steps[0].(map[string]any)["outcome"] != "decided" ||
		steps[1].(map[string]any)["outcome"] != "skipped" || batches[0].(map[string]any)["state"] != "reminded" {
		t.Errorf("steps = %v; want the reminder decided and the notification skipped", batches[0])
	}
	// Twice: nothing more; the send jobs were enqueued for the workers.
	if v, _ := tick("--now", "2026-02-21T10:15:00Z"); v["emails_decided"].(float64) != 0 {
		t.Errorf("second run decided %v", v["emails_decided"])
	}
	var jobs int
	_ = db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'faulty.send'`).Scan(&jobs)
	if jobs != 2 || len(ids) != 2 {
		t.Errorf("faulty.send jobs = %d; want 2", jobs)
	}
}
