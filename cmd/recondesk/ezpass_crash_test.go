package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"recondesk/internal/app"
	"recondesk/internal/demo"
	"recondesk/internal/ezpass"
	"recondesk/internal/jobs"
	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

// TestHelperRecondeskProcess is not a test: it runs the program in a child
// process (the test binary re-executed) for tests that kill it.
func TestHelperRecondeskProcess(t *testing.T) {
	args := os.Getenv("RECONDESK_HELPER_ARGS")
	if args == "" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, strings.Split(args, " "), os.Getenv, strings.NewReader(""), os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// startProcess runs `recondesk args...` as a real child process.
func startProcess(t *testing.T, env map[string]string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperRecondeskProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "RECONDESK_HELPER_ARGS="+strings.Join(args, " "))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
			}
		}
	})
	return cmd
}

// TestImportSurvivesWorkerKilledMidImport (issue 8 item 6): a worker process
// is killed with SIGKILL while it loads a large import; after another worker
// starts, the import ends (failed or succeeded) within two minutes, and when
// it failed the same file is accepted again.
func TestImportSurvivesWorkerKilledMidImport(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a real worker process mid-import")
	}
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	a := app.New(app.Deps{Pool: db.Pool, Logger: log})
	if _, err := jobs.NewClient(jobs.Deps{App: a, Pool: db.Pool, Logger: log}, jobs.RoleWeb); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	err := demo.WriteEZPassCSV(&buf, ezpass.FormatA, time.UTC, func(yield func(demo.EZPassRow) bool) {
		for i := range 150000 {
			if !yield(demo.EZPassRow{LaneTxnID: fmt.Sprint(10_000_000 + i), TagOrPlate: "00812345678", Agency: "MTAB&T",
				ExitPlaza: "VERRAZANO", Class: "1", At: time.Date(2026, 1, 1+i%28, i%24, i%60, 0, 0, time.UTC), Cents: 694, Kind: ezpass.KindToll}) {
				return
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	sum := sha256.Sum256(data)
	up := func() app.EZPassUpload {
		return app.EZPassUpload{FileName: "big.csv", Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), File: bytes.NewReader(data)}
	}
	imp, err := a.StartImport(ctx, app.User(1), up())
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": db.URL, "LOG_LEVEL": "warn"}
	status := func() store.EZPassImport {
		got, err := store.EZPassImportByID(ctx, db.Pool, imp.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	env["ADDR"] = freeAddr(t)
	first := startProcess(t, env, "serve", "--role", "worker")
	deadline := time.Now().Add(90 * time.Second)
	for got := status(); got.Status != store.ImportRunning || got.RowsRead < 2*store.DefaultProgressEvery; got = status() {
		if !got.Active() || time.Now().After(deadline) {
			t.Fatalf("import never seen loading: %s, %d rows read", got.Status, got.RowsRead)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := first.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = first.Wait()
	if got := status(); got.Status != store.ImportRunning {
		t.Fatalf("right after the kill the import is %s; want still running", got.Status)
	}

	env["ADDR"] = freeAddr(t)
	restarted := time.Now()
	startProcess(t, env, "serve", "--role", "worker")
	var got store.EZPassImport
	for got = status(); got.Active(); got = status() {
		if time.Since(restarted) > 2*time.Minute {
			t.Fatalf("2 minutes after restart the import is still %s (%q)", got.Status, got.Message)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("after the restart the import ended %s in %s: %s", got.Status, time.Since(restarted).Round(time.Millisecond), got.Message)
	switch got.Status {
	case store.ImportFailed:
		if _, err := a.StartImport(ctx, app.User(1), up()); err != nil {
			t.Errorf("re-upload after the failed import: %v; want accepted", err)
		}
	case store.ImportSucceeded:
	default:
		t.Errorf("import ended %s; want failed or succeeded", got.Status)
	}
}
