package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"recondesk/internal/browsertest"
	"recondesk/internal/pgtest"
)

// syncBuffer is a goroutine-safe output sink for run().
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type instance struct {
	addr           string
	stdout, stderr *syncBuffer
	done           chan error
}

// start runs the program with args and env until the test ends, and waits
// for /healthz.
func start(t *testing.T, env map[string]string, args ...string) *instance {
	t.Helper()
	inst := &instance{addr: freeAddr(t), stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	env["ADDR"] = inst.addr
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		inst.done <- run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), inst.stdout, inst.stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-inst.done:
			if err != nil {
				t.Errorf("run %v: %v", args, err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("run %v did not stop", args)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-inst.done:
			t.Fatalf("run %v exited early: %v\nstderr: %s", args, err, inst.stderr.String())
		default:
		}
		resp, err := http.Get("http://" + inst.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return inst
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("run %v: /healthz never answered\nstderr: %s", args, inst.stderr.String())
	return nil
}

func TestRunUnknownCommand(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), `unknown command "frobnicate"`) || !strings.Contains(errOut.String(), "usage:") {
		t.Fatalf("err = %v, stderr = %q", err, errOut.String())
	}
}

func TestUserAddReadsPasswordFromStdin(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	env := func(k string) string { return map[string]string{"DATABASE_URL": db.URL}[k] }
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"user", "add", "--email", "Eve@Example.com", "--role", "finance"}, env,
		strings.NewReader("a sufficiently long one\n"), &out, &errOut)
	if err != nil || !strings.Contains(out.String(), "eve@example.com (finance)") {
		t.Fatalf("user add: %v %q", err, out.String())
	}
	err = run(context.Background(), []string{"user", "add", "--email", "x@example.com", "--role", "viewer"}, env,
		strings.NewReader("short\n"), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "at least 12") {
		t.Fatalf("short password: %v", err)
	}
}

// TestRunEndToEnd starts `dev` through run(), signs in with the printed demo
// login in Chromium, sees Home and signs out.
func TestRunEndToEnd(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	env := map[string]string{"DATABASE_URL": db.URL, "DATA_DIR": t.TempDir()}
	inst := start(t, env, "dev")
	out := inst.stdout.String()
	if !strings.Contains(out, "sign in as admin@recondesk.local / recondesk-demo") || !strings.Contains(out, "http://"+inst.addr) {
		t.Fatalf("dev did not print the URL and demo login: %q", out)
	}
	resp, err := http.Get("http://" + inst.addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	ready, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(ready), `"smtp": "ok"`) {
		t.Fatalf("/readyz = %d %s", resp.StatusCode, ready)
	}
	ctx := browsertest.New(t, 60*time.Second)
	base := "http://" + inst.addr
	if err := browsertest.Login(ctx, base, "admin@recondesk.local", "recondesk-demo"); err != nil {
		t.Fatalf("login: %v", err)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main h1`)))
	if err != nil || heading != "Home" {
		t.Fatalf("Home heading = %q, %v", heading, err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="sign-out"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="sign-in"]`)),
	)
	if err != nil {
		t.Fatalf("sign out: %v", err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasSuffix(loc, "/login") {
		t.Fatalf("after sign out at %q, %v", loc, err)
	}
}

// TestTwoWorkersRunPeriodicJobOncePerPeriod runs two worker processes
// against one database and checks each period's job ran exactly once.
func TestTwoWorkersRunPeriodicJobOncePerPeriod(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	const period = 2 * time.Second
	for range 2 {
		start(t, map[string]string{"DATABASE_URL": db.URL, "PRUNE_INTERVAL": period.String()}, "serve", "--role", "worker")
	}
	began := time.Now()
	ctx := context.Background()
	// Wait until three periods' jobs have completed (instead of a fixed sleep).
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var done int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'maintenance.prune' AND state = 'completed'`).Scan(&done); err != nil && !strings.Contains(err.Error(), "river_job") {
			t.Fatal(err)
		}
		if done >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d prune jobs completed in %v", done, time.Since(began))
		}
	}
	var total, completed, periods, retried int
	err := db.Pool.QueryRow(ctx, `
		SELECT count(*),
		       count(*) FILTER (WHERE state = 'completed'),
		       count(DISTINCT date_bin($1::interval, created_at, 'epoch'::timestamptz)),
		       count(*) FILTER (WHERE attempt > 1)
		FROM river_job WHERE kind = 'maintenance.prune'`, fmt.Sprintf("%d seconds", int(period.Seconds()))).
		Scan(&total, &completed, &periods, &retried)
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(began)
	maxPeriods := int(elapsed/period) + 2
	t.Logf("jobs %d completed %d periods %d in %v", total, completed, periods, elapsed)
	if total < 2 || total > maxPeriods {
		t.Fatalf("%d prune jobs in %v; want between 2 and %d (one per %v)", total, elapsed, maxPeriods, period)
	}
	if periods != total {
		t.Fatalf("%d jobs over %d periods: a period ran twice", total, periods)
	}
	if retried != 0 || completed < total-1 {
		t.Fatalf("completed %d of %d, retried %d", completed, total, retried)
	}
}

// TestMetricsOnTheirOwnAddress: METRICS_ADDR serves /metrics; the app's
// address does not.
func TestMetricsOnTheirOwnAddress(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	metricsAddr := freeAddr(t)
	inst := start(t, map[string]string{"DATABASE_URL": db.URL, "METRICS_ADDR": metricsAddr}, "serve", "--role", "worker")
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "# TYPE") {
		t.Fatalf("METRICS_ADDR /metrics = %d", resp.StatusCode)
	}
	resp, err = http.Get("http://" + inst.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("ADDR /metrics = %d; want 404", resp.StatusCode)
	}
}
