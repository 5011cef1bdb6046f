package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"

	"recondesk/internal/app"
	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

// TestCmdFaultyEscalateAndResolve: `faulty escalate` and `faulty resolve` leave what the page
// and the API leave (web TestFaultyUIAndAPIGiveTheSameResult): the audit events by the actor,
// a re-escalation and a closing message in the outbox, and a send job for each.
func TestCmdFaultyEscalateAndResolve(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	ids, err := store.CreateLadderFixture(ctx, db.Pool, store.LadderFixture{Batches: 1, Items: 2,
		TrackedAt: time.Date(2026, 2, 12, 10, 0, 0, 0, time.UTC), Escalation: []string{"boss{n}@partner.test"}})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": db.URL}
	cli := func(args ...string) (map[string]any, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"faulty"}, args...), func(k string) string { return env[k] }, strings.NewReader(""), &out, io.Discard)
		if err != nil {
			return nil, err
		}
		var v map[string]any
		if err := json.Unmarshal(out.Bytes(), &v); err != nil {
			t.Fatalf("output is not JSON: %s", out.String())
		}
		return v, nil
	}
	if _, err := cli("escalate", "--batch", ids[0], "--user", "7"); err == nil || !strings.Contains(err.Error(), "note") {
		t.Errorf("escalate without a note = %v; want an error asking for one", err)
	}
	if _, err := cli("escalate", "--batch", ids[0], "--note", "Please call us.", "--user", "7"); err != nil {
		t.Fatal(err)
	}
	v, err := cli("resolve", "--batch", ids[0], "--note", "credited", "--user", "7")
	if err != nil {
		t.Fatal(err)
	}
	if v["resolved"].(float64) != 2 || v["closing"] == nil {
		t.Errorf("resolve printed %v; want 2 resolved and the closing message", v)
	}

	ev, err := store.ListAudit(ctx, db.Pool, store.AuditFilter{SubjectType: "faulty_batch", SubjectID: ids[0]})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, e := range ev {
		if e.Actor == "user:7" {
			actions[e.Action]++
		}
	}
	es, err := store.FaultyEmailsByBatch(ctx, db.Pool, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	var expected []rivertest.ExpectedJob
	for _, e := range es {
		steps = append(steps, e.StepKey)
		expected = append(expected, rivertest.ExpectedJob{Args: &app.FaultySendArgs{EmailID: e.ID}})
	}
	if got, want := fmt.Sprint(actions, " ", steps), "map[faulty.email_decided:2 faulty_batch.resolve_items:1] [re_escalation:1 closing]"; got != want {
		t.Errorf("CLI left %s; want %s", got, want)
	}
	jobs := rivertest.RequireManyInserted(ctx, t, riverpgxv5.New(db.Pool), expected)
	for i, j := range jobs {
		var args app.FaultySendArgs
		_ = json.Unmarshal(j.EncodedArgs, &args)
		if args.EmailID != es[i].ID {
			t.Errorf("send job %d is for email %d; want %d", i, args.EmailID, es[i].ID)
		}
	}
}
