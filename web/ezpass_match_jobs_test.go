package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"

	"recondesk/internal/app"
	"recondesk/internal/auth"
	"recondesk/internal/jobs"
	"recondesk/internal/store"
)

// workMatchJobs works every queued association and posting job (and the
// ones they queue) with the real workers, oldest first, and returns each
// job's recorded output. The web tests' River client only inserts.
func workMatchJobs(t *testing.T, b *bundle) []map[string]any {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	a := app.New(app.Deps{Pool: b.db.Pool, Logger: log, Config: b.deps.Config})
	a.UseJobs(b.deps.River)
	drv := riverpgxv5.New(b.db.Pool)
	assoc := rivertest.NewWorker(t, drv, &river.Config{}, &jobs.EZPassAssociateWorker{App: a, Logger: log})
	post := rivertest.NewWorker(t, drv, &river.Config{}, &jobs.EZPassPostWorker{App: a, Logger: log})
	var outs []map[string]any
	for range 20 {
		res, err := b.deps.River.JobList(ctx, river.NewJobListParams().Kinds(jobs.EZPassAssociateArgs{}.Kind(), jobs.EZPassPostArgs{}.Kind()).
			States(rivertype.JobStateAvailable).OrderBy(river.JobListOrderByID, river.SortOrderAsc).First(1))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Jobs) == 0 {
			return outs
		}
		job := res.Jobs[0]
		tx, err := b.db.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var r *rivertest.WorkResult
		if job.Kind == (jobs.EZPassAssociateArgs{}).Kind() {
			r, err = assoc.WorkJob(ctx, t, tx, job)
		} else {
			r, err = post.WorkJob(ctx, t, tx, job)
		}
		if err != nil {
			tx.Rollback(ctx)
			t.Fatalf("job %s #%d: %v", job.Kind, job.ID, err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		if err := json.Unmarshal(r.Job.Output(), &out); err != nil {
			t.Fatalf("job %s #%d output %q: %v", job.Kind, job.ID, r.Job.Output(), err)
		}
		outs = append(outs, out)
	}
	t.Fatal("more than 20 association and posting jobs queued")
	return nil
}

// apiCall sends a JSON API request with role's token.
func apiCall(t *testing.T, b *bundle, role auth.Role, method, path string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, b.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+b.token(t, role))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func countJobs(t *testing.T, b *bundle, kind string) int {
	t.Helper()
	var n int
	if err := b.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = $1`, kind).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAPIAssociateAndPostAnswer202AtOnceAndQueueOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	matchFixture(t, b)
	addToll(t, b, "1111", nyAt(3, 1, 10, 0), 700)
	for _, path := range []string{"/api/ezpass/associate", "/api/ezpass/post"} {
		began := time.Now()
		st, first := apiCall(t, b, auth.Finance, "POST", path)
		took := time.Since(began)
		if st != http.StatusAccepted || first["job_id"] == nil || first["already_queued"] != false {
			t.Fatalf("%s: %d %v", path, st, first)
		}
		if took > time.Second {
			t.Fatalf("%s took %v; it only queues a job", path, took)
		}
		st, second := apiCall(t, b, auth.Finance, "POST", path)
		if st != http.StatusAccepted || second["job_id"] != first["job_id"] || second["already_queued"] != true {
			t.Fatalf("%s again: %d %v; want the queued job %v", path, st, second, first["job_id"])
		}
	}
	if a, p := countJobs(t, b, "ezpass.associate"), countJobs(t, b, "ezpass.post"); a != 1 || p != 1 {
		t.Fatalf("jobs: %d associate, %d post; want 1 each", a, p)
	}
	// Nothing ran in the requests.
	if s, _, _ := txnStatus(t, b, 1); s != "imported" {
		t.Fatalf("toll is %s before the job ran", s)
	}
	if st, _ := apiCall(t, b, auth.Viewer, "POST", "/api/ezpass/associate"); st != http.StatusForbidden {
		t.Fatalf("viewer: %d", st)
	}
}

func TestAssociateNowButtonQueuesOneJobUnder30ParallelClicks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	finance := b.login(t, auth.Finance)
	var wg sync.WaitGroup
	codes := make([]int, 30)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := finance.PostForm(b.srv.URL+"/ezpass/associate", url.Values{})
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusSeeOther {
			t.Fatalf("click %d: %d", i, c)
		}
	}
	if n := countJobs(t, b, "ezpass.associate"); n != 1 {
		t.Fatalf("%d association jobs; want 1", n)
	}
	// The page disables the button and polls while the run is queued.
	_, body := b.get(t, finance, "/ezpass/failures")
	doc := parseHTML(t, body)
	btn := findByTestID(doc, "run-associate")
	if btn == nil || !hasAttr(btn, "disabled") {
		t.Fatal("Run association now is not disabled while a run is queued")
	}
	if post := findByTestID(doc, "run-post"); post == nil || hasAttr(post, "disabled") {
		t.Fatal("Post is disabled though no posting run is queued")
	}
	panel := findByTestID(doc, "match-runs")
	if panel == nil || attr(panel, "hx-trigger") != "every 2s" || attr(panel, "hx-get") != "/ezpass/runs" {
		t.Fatal("the runs panel does not poll while a run is queued")
	}
	// The job runs; the panel shows the result and stops polling.
	workMatchJobs(t, b)
	_, frag := b.get(t, finance, "/ezpass/runs", "HX-Request", "true")
	doc = parseHTML(t, frag)
	panel = findByTestID(doc, "match-runs")
	if panel == nil || attr(panel, "hx-trigger") != "" {
		t.Fatalf("panel still polls after the run: %s", frag)
	}
	if st := findByTestID(doc, "status-associate"); st == nil || attr(st, "data-state") != "completed" ||
		!strings.Contains(textOf(st), "0 of 0 tolls matched") {
		t.Fatalf("status after the run: %s", frag)
	}
	if btn := findByTestID(doc, "run-associate"); btn == nil || hasAttr(btn, "disabled") {
		t.Fatal("button still disabled after the run")
	}
}

// TestSameUseCaseFromUIAPIAndCLI runs association and posting from the
// button, the API and the use case the CLI calls on three equal databases:
// same counts, same audit events (but the actor), same follow-up jobs.
func TestSameUseCaseFromUIAPIAndCLI(t *testing.T) {
	t.Parallel()
	type outcome struct {
		assoc, post  map[string]any
		audits       []string
		followUps    int
		txnStatuses  string
		ledgerTotals store.LedgerTotals
	}
	run := func(entry string) outcome {
		b := setup(t)
		matchFixture(t, b)
		addToll(t, b, "1111", nyAt(1, 15, 10, 0), 700)
		addToll(t, b, "1111", nyAt(3, 1, 10, 0), 911)
		addToll(t, b, "9999", nyAt(3, 1, 11, 0), 500)
		ctx := context.Background()
		var o outcome
		switch entry {
		case "ui":
			finance := b.login(t, auth.Finance)
			if resp := b.post(t, finance, "/ezpass/associate", url.Values{}); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("ui associate: %d", resp.StatusCode)
			}
			outs := workMatchJobs(t, b)
			o.assoc, o.followUps = outs[0], len(outs)-1
			if resp := b.post(t, finance, "/ezpass/post", url.Values{}); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("ui post: %d", resp.StatusCode)
			}
			o.post = workMatchJobs(t, b)[0]
		case "api":
			if st, _ := apiCall(t, b, auth.Finance, "POST", "/api/ezpass/associate"); st != http.StatusAccepted {
				t.Fatalf("api associate: %d", st)
			}
			outs := workMatchJobs(t, b)
			o.assoc, o.followUps = outs[0], len(outs)-1
			if st, _ := apiCall(t, b, auth.Finance, "POST", "/api/ezpass/post"); st != http.StatusAccepted {
				t.Fatalf("api post: %d", st)
			}
			o.post = workMatchJobs(t, b)[0]
		case "cli":
			a := app.New(app.Deps{Pool: b.db.Pool, Config: b.deps.Config})
			a.UseJobs(b.deps.River)
			c, err := a.Associate(ctx, app.System("ezpass.associate"), "cli")
			if err != nil {
				t.Fatal(err)
			}
			o.assoc = roundTrip(t, c)
			outs := workMatchJobs(t, b) // the follow-up posting, if auto-posting
			o.followUps = len(outs)
			p, err := a.Post(ctx, app.System("ezpass.post"), "cli")
			if err != nil {
				t.Fatal(err)
			}
			o.post = roundTrip(t, p)
		}
		evs, err := store.ListAudit(ctx, b.db.Pool, store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if strings.HasPrefix(ev.Action, "ezpass.") {
				o.audits = append(o.audits, ev.Action+" "+ev.SubjectType+"/"+ev.SubjectID)
			}
		}
		b.db.Pool.QueryRow(ctx, `SELECT string_agg(status, ',' ORDER BY id) FROM ezpass_transactions`).Scan(&o.txnStatuses)
		if o.ledgerTotals, err = store.Totals(ctx, b.db.Pool); err != nil {
			t.Fatal(err)
		}
		return o
	}
	ui, api, cli := run("ui"), run("api"), run("cli")
	for name, o := range map[string]outcome{"api": api, "cli": cli} {
		if fmt.Sprint(o.assoc) != fmt.Sprint(ui.assoc) || o.followUps != ui.followUps || o.txnStatuses != ui.txnStatuses ||
			o.ledgerTotals != ui.ledgerTotals || fmt.Sprint(o.audits) != fmt.Sprint(ui.audits) {
			t.Fatalf("%s differs from ui:\n%s: %+v\nui: %+v", name, name, o, ui)
		}
	}
	if ui.assoc["associated_by_tag"] != float64(2) || ui.txnStatuses != "posted,posted,association_failed" || ui.ledgerTotals.Drivers != 1611 {
		t.Fatalf("ui outcome = %+v", ui)
	}
}

func roundTrip(t *testing.T, v any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(v)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func parseHTML(t *testing.T, body string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// findByTestID is the first node with data-testid id, depth first.
func findByTestID(n *html.Node, id string) *html.Node {
	if n.Type == html.ElementNode && attr(n, "data-testid") == id {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := findByTestID(c, id); f != nil {
			return f
		}
	}
	return nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func textOf(n *html.Node) string {
	var sb strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			sb.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return sb.String()
}
