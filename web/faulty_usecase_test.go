package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"golang.org/x/net/html"

	"recondesk/internal/app"
	"recondesk/internal/auth"
	"recondesk/internal/faulty"
	"recondesk/internal/jobs"
	"recondesk/internal/store"
)

// clocked returns b served again by a server whose clock is now.
func clocked(t *testing.T, b *bundle, now time.Time) *bundle {
	t.Helper()
	c := *b
	c.deps.Now = func() time.Time { return now }
	c.srv = httptest.NewServer(NewServer(c.deps))
	t.Cleanup(c.srv.Close)
	return &c
}

// byTestID parses body and returns the nodes whose data-testid is id.
func byTestID(t *testing.T, body, id string) []*html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && attr(n, "data-testid") == id {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

// Period 2026-01 of a ladder fixture: notified on 16 February, reminder due from the 21st.
var (
	usecaseTracked = time.Date(2026, 2, 12, 10, 0, 0, 0, time.UTC)
	usecaseNotify  = time.Date(2026, 2, 16, 9, 15, 0, 0, time.UTC)
	usecaseRemind  = time.Date(2026, 2, 21, 9, 15, 0, 0, time.UTC)
)

// notifiedBatch makes one batch of items bookings whose notification was decided on the 16th.
func notifiedBatch(t *testing.T, b *bundle, items int) string {
	t.Helper()
	ctx := context.Background()
	ids, err := store.CreateLadderFixture(ctx, b.db.Pool, store.LadderFixture{Batches: 1, Items: items, TrackedAt: usecaseTracked,
		Cc: []string{"billing{n}@partner.test"}, Escalation: []string{"boss{n}@partner.test"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := jobs.RunFaultyTick(ctx, jobs.TickRun{Pool: b.db.Pool, Ladder: ladder(b.deps), Now: usecaseNotify, Actor: "system:test"})
	if err != nil || res.Decided != 1 {
		t.Fatalf("notification: decided %d, %v", res.Decided, err)
	}
	return ids[0]
}

// TestFaultyResolveQueuesOnlyTheClosingMessage: resolving some items of a batch whose reminder
// is due sends nothing (the reminder is the tick's); resolving the last queues exactly one
// closing message with its send job.
func TestFaultyResolveQueuesOnlyTheClosingMessage(t *testing.T) {
	t.Parallel()
	b := clocked(t, setup(t), usecaseRemind)
	ctx := context.Background()
	id := notifiedBatch(t, b, 3)
	fin := b.login(t, auth.Finance)
	items, _ := store.LadderItems(ctx, b.db.Pool, id, store.LadderItemFilter{State: store.ItemOpen})

	resp := b.post(t, fin, "/faulty/batches/"+id+"/resolve-items", url.Values{"item": {itoa(items[0].ID), itoa(items[1].ID)}, "note": {"fixed by CDR"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("resolve items = %d", resp.StatusCode)
	}
	if es := emailsOf(t, b, id); len(es) != 1 || es[0].StepKey != "notification" {
		t.Fatalf("after resolving 2 of 3 with the reminder due: %d emails (last %s); want the notification only", len(es), es[len(es)-1].StepKey)
	}
	rivertest.RequireNotInserted(ctx, t, riverpgxv5.New(b.db.Pool), &app.FaultySendArgs{}, nil)

	resp = b.post(t, fin, "/faulty/batches/"+id+"/resolve-items", url.Values{"item": {itoa(items[2].ID)}, "note": {"partner credited"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("resolve the last = %d", resp.StatusCode)
	}
	es := emailsOf(t, b, id)
	if len(es) != 2 || es[1].StepKey != "closing" || es[1].Level != string(faulty.LevelClosing) {
		t.Fatalf("after resolving the last: %d emails; want notification + closing", len(es))
	}
	job := rivertest.RequireInserted(ctx, t, riverpgxv5.New(b.db.Pool), &app.FaultySendArgs{}, nil)
	if job.Args.EmailID != es[1].ID {
		t.Errorf("send job for email %d; want the closing message %d", job.Args.EmailID, es[1].ID)
	}
	// Resolving again: nothing is open; no second closing message.
	b.post(t, fin, "/faulty/batches/"+id+"/resolve", url.Values{"note": {"again"}})
	if es := emailsOf(t, b, id); len(es) != 2 {
		t.Errorf("a second resolve made %d emails; want 2", len(es))
	}
}

// apiCall sends a JSON request with a bearer token and decodes the JSON answer.
func faultyAPICall(t *testing.T, b *bundle, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, b.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
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

// TestFaultyAPIIngestQueuesOneUniqueJob: repeated API calls and the UI's Run now queue one
// ingestion job between them; each call answers 202 with that job's id.
func TestFaultyAPIIngestQueuesOneUniqueJob(t *testing.T) {
	t.Parallel()
	b := setup(t)
	fin := b.token(t, auth.Finance)
	var first float64
	for i := range 3 {
		code, v := faultyAPICall(t, b, "POST", "/api/faulty/ingest", fin, `{"period":"2026-10"}`)
		id, _ := v["job_id"].(float64)
		if code != http.StatusAccepted || id == 0 {
			t.Fatalf("call %d = %d %v; want 202 with a job id", i, code, v)
		}
		if i == 0 {
			first = id
		} else if id != first || v["duplicate"] != true {
			t.Errorf("call %d answered job %v (duplicate %v); want job %v again", i, id, v["duplicate"], first)
		}
	}
	resp := b.post(t, b.login(t, auth.Finance), "/faulty/periods/2026-10/run", url.Values{"phase": {"ingestion"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("UI run now = %d", resp.StatusCode)
	}
	jobs := rivertest.RequireManyInserted(context.Background(), t, riverpgxv5.New(b.db.Pool), []rivertest.ExpectedJob{
		{Args: &app.FaultyPhaseArgs{}, Opts: &rivertest.RequireInsertedOpts{MaxAttempts: 3}},
	})
	if int64(first) != jobs[0].ID {
		t.Errorf("API answered job %v; the queued job is %d", first, jobs[0].ID)
	}
	// 30 concurrent calls still queue one job.
	done := make(chan int, 30)
	for range 30 {
		go func() {
			code, _ := faultyAPICall(t, b, "POST", "/api/faulty/ingest", fin, `{"period":"2026-11"}`)
			done <- code
		}()
	}
	for range 30 {
		if code := <-done; code != http.StatusAccepted {
			t.Errorf("concurrent call = %d; want 202", code)
		}
	}
	var n int
	_ = b.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'faulty.phase' AND args->>'period' = '2026-11'`).Scan(&n)
	if n != 1 {
		t.Errorf("30 concurrent calls queued %d jobs; want 1", n)
	}
}

// TestFaultyRunPhaseNowQueuesAndPolls: Run now answers at once with a queued job; the period
// page shows its progress, polls, and disables that phase's button until the job is done.
func TestFaultyRunPhaseNowQueuesAndPolls(t *testing.T) {
	t.Parallel()
	b := setup(t)
	fin := b.login(t, auth.Finance)
	began := time.Now()
	resp := b.post(t, fin, "/faulty/periods/2026-10/run", url.Values{"phase": {"ingestion"}})
	if resp.StatusCode != http.StatusSeeOther || time.Since(began) > 2*time.Second {
		t.Fatalf("run now = %d in %v; want 303 at once", resp.StatusCode, time.Since(began))
	}
	rivertest.RequireInserted(context.Background(), t, riverpgxv5.New(b.db.Pool),
		&app.FaultyPhaseArgs{}, nil)
	_, page := b.get(t, fin, "/faulty/periods/2026-10")
	root := byTestID(t, page, "faulty-period")
	if len(root) != 1 || attr(root[0], "hx-trigger") != "every 2s" || attr(root[0], "hx-get") != "/faulty/periods/2026-10" {
		t.Fatalf("the period fragment does not poll while the ingestion is queued")
	}
	if len(byTestID(t, page, "progress-ingestion")) != 1 {
		t.Error("no progress line for the queued ingestion")
	}
	if btn := byTestID(t, page, "run-ingestion"); len(btn) != 1 || !hasAttr(btn[0], "disabled") {
		t.Error("Run ingestion now is not disabled while one is queued")
	}
	if btn := byTestID(t, page, "run-validation"); len(btn) != 1 || hasAttr(btn[0], "disabled") {
		t.Error("Run validation now is disabled though none is queued")
	}
	// The job finishes: the fragment stops polling and the button is back.
	if _, err := b.db.Pool.Exec(context.Background(), `UPDATE river_job SET state = 'completed', finalized_at = now() WHERE kind = 'faulty.phase'`); err != nil {
		t.Fatal(err)
	}
	_, frag := b.get(t, fin, "/faulty/periods/2026-10", "HX-Request", "true")
	root = byTestID(t, frag, "faulty-period")
	if len(root) != 1 || hasAttr(root[0], "hx-trigger") || len(byTestID(t, frag, "phase-progress")) != 0 {
		t.Error("the fragment still polls after the job completed")
	}
	if btn := byTestID(t, frag, "run-ingestion"); len(btn) != 1 || hasAttr(btn[0], "disabled") {
		t.Error("Run ingestion now stays disabled after the job completed")
	}
}

// trail is what a re-escalation or a resolve left behind: the audit actions on the batch by
// the actor, the outbox rows' step keys, and the emails with a send job.
func trail(t *testing.T, b *bundle, batchID, actor string) (actions map[string]int, steps []string, sendJobs int) {
	t.Helper()
	ctx := context.Background()
	ev, err := store.ListAudit(ctx, b.db.Pool, store.AuditFilter{SubjectType: "faulty_batch", SubjectID: batchID})
	if err != nil {
		t.Fatal(err)
	}
	actions = map[string]int{}
	for _, e := range ev {
		if e.Actor == actor {
			actions[e.Action]++
		}
	}
	for _, e := range emailsOf(t, b, batchID) {
		steps = append(steps, e.StepKey)
		var n int
		_ = b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'faulty.send' AND (args->>'email_id')::bigint = $1`, e.ID).Scan(&n)
		sendJobs += n
	}
	return actions, steps, sendJobs
}

// TestFaultyUIAndAPIGiveTheSameResult: re-escalating and resolving a batch from the page and
// from the API leave the same audit events, outbox rows and send jobs.
func TestFaultyUIAndAPIGiveTheSameResult(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ids, err := store.CreateLadderFixture(ctx, b.db.Pool, store.LadderFixture{Batches: 2, Items: 2, TrackedAt: usecaseTracked,
		Escalation: []string{"boss{n}@partner.test"}})
	if err != nil {
		t.Fatal(err)
	}
	actor := store.UserActor(b.users[auth.Finance].ID)
	fin, token := b.login(t, auth.Finance), b.token(t, auth.Finance)

	b.post(t, fin, "/faulty/batches/"+ids[0]+"/escalate", url.Values{"note": {"Please call us."}})
	b.post(t, fin, "/faulty/batches/"+ids[0]+"/resolve", url.Values{"note": {"credited"}})
	if code, v := faultyAPICall(t, b, "POST", "/api/faulty/batches/"+ids[1]+"/escalate", token, `{"note":"Please call us."}`); code != http.StatusCreated {
		t.Fatalf("API escalate = %d %v", code, v)
	}
	code, v := faultyAPICall(t, b, "POST", "/api/faulty/batches/"+ids[1]+"/resolve", token, `{"note":"credited"}`)
	if code != http.StatusOK || v["resolved"].(float64) != 2 || v["closing"] == nil {
		t.Fatalf("API resolve = %d %v; want 2 resolved and the closing message", code, v)
	}
	uiActions, uiSteps, uiJobs := trail(t, b, ids[0], actor)
	apiActions, apiSteps, apiJobs := trail(t, b, ids[1], actor)
	want := "map[faulty.email_decided:2 faulty_batch.resolve_items:1] [re_escalation:1 closing] 2"
	if got := fmt.Sprint(uiActions, " ", uiSteps, " ", uiJobs); got != want {
		t.Errorf("UI left %s; want %s", got, want)
	}
	if got := fmt.Sprint(apiActions, " ", apiSteps, " ", apiJobs); got != want {
		t.Errorf("API left %s; want %s", got, want)
	}
}

// TestFaultyConcurrentResolveClosesOnce: 30 simultaneous API calls resolving the same batch
// resolve it once and queue exactly one closing message; the others are told nothing is open.
func TestFaultyConcurrentResolveClosesOnce(t *testing.T) {
	t.Parallel()
	b := clocked(t, setup(t), usecaseRemind)
	id := notifiedBatch(t, b, 2)
	token := b.token(t, auth.Finance)
	codes := make(chan int, 30)
	for range 30 {
		go func() {
			code, _ := faultyAPICall(t, b, "POST", "/api/faulty/batches/"+id+"/resolve", token, `{"note":"credited"}`)
			codes <- code
		}()
	}
	byCode := map[int]int{}
	for range 30 {
		byCode[<-codes]++
	}
	if byCode[http.StatusOK] != 1 || byCode[http.StatusUnprocessableEntity] != 29 {
		t.Errorf("answers = %v; want one 200 and 29 422", byCode)
	}
	es := emailsOf(t, b, id)
	if len(es) != 2 || es[1].StepKey != "closing" {
		t.Errorf("%d emails; want the notification and one closing message", len(es))
	}
}

// TestFaultyDepsReachTheApp: a server built without an App applies the policy given in
// Deps.Faulty.
func TestFaultyDepsReachTheApp(t *testing.T) {
	t.Parallel()
	p := faulty.DefaultPolicy(time.UTC)
	p.SendHour = 14
	d := Deps{Faulty: FaultyDeps{Ladder: FaultyLadderDeps{Policy: &p}}}
	if got := faultyAppDeps(d).Policy.SendHour; got != 14 {
		t.Errorf("App policy send hour = %d; want the given 14", got)
	}
	if got := faultyPolicy(d).SendHour; got != 14 {
		t.Errorf("faultyPolicy send hour = %d; want 14", got)
	}
}
