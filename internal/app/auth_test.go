package app_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"recondesk/internal/app"
	"recondesk/internal/apperror"
	"recondesk/internal/auth"
	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

var fastHash = auth.Params{Memory: 1024, Time: 1, Threads: 1}

const pw = "correct horse battery"

func newAuthApp(t *testing.T) (*app.App, *pgtest.DB, store.User) {
	t.Helper()
	db := pgtest.New(t)
	a := app.New(app.Deps{Pool: db.Pool})
	a.Auth = app.AuthDeps{Hashing: fastHash, Gate: auth.NewGate(2), GateWait: 100 * time.Millisecond}
	hash, _ := auth.HashPassword(pw, fastHash)
	u, err := store.CreateUser(context.Background(), db.Pool, "ann@example.com", auth.Finance, hash)
	if err != nil {
		t.Fatal(err)
	}
	return a, db, u
}

var sessions atomic.Int64

// session stands for the web layer's fresh session token.
func session(context.Context) (string, error) { return fmt.Sprint("tok-", sessions.Add(1)), nil }

func TestSignInDatabaseErrorIsNotAWrongPassword(t *testing.T) {
	t.Parallel()
	a, db, u := newAuthApp(t)
	ctx := context.Background()
	// A stored hash that cannot be read: VerifyPassword's error.
	if _, err := db.Pool.Exec(ctx, `UPDATE users SET password_hash = 'garbage' WHERE id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err := a.SignIn(ctx, app.SignInRequest{Email: u.Email, Password: pw, Addr: "10.0.0.1"}, session)
	if apperror.CodeOf(err) != apperror.Unavailable || strings.Contains(apperror.MessageOf(err), app.MsgWrongLogin) {
		t.Fatalf("bad stored hash: %v; want Unavailable, not a wrong password", err)
	}
	// The users table cannot be read: a database error.
	if _, err := db.Pool.Exec(ctx, `ALTER TABLE users RENAME TO users_gone`); err != nil {
		t.Fatal(err)
	}
	_, err = a.SignIn(ctx, app.SignInRequest{Email: u.Email, Password: pw, Addr: "10.0.0.1"}, session)
	if apperror.CodeOf(err) != apperror.Unavailable || !strings.Contains(apperror.MessageOf(err), "try again") {
		t.Fatalf("database error: %v; want Unavailable with 'try again'", err)
	}
	if _, err := db.Pool.Exec(ctx, `ALTER TABLE users_gone RENAME TO users`); err != nil {
		t.Fatal(err)
	}
	// Neither counted as a failed sign-in.
	var fails int
	_ = db.Pool.QueryRow(ctx, `SELECT count(*) FROM login_failures WHERE key = $1`, auth.AccountKey(u.Email)).Scan(&fails)
	if fails != 0 {
		t.Fatalf("%d failures recorded for errors on our side", fails)
	}
}

func TestSignInWaitsForAHashingSlotThenRefuses(t *testing.T) {
	t.Parallel()
	a, _, u := newAuthApp(t)
	gate := auth.NewGate(1)
	a.Auth.Gate = gate
	release, ok := gate.Enter(context.Background(), time.Second)
	if !ok {
		t.Fatal("gate")
	}
	start := time.Now()
	_, err := a.SignIn(context.Background(), app.SignInRequest{Email: u.Email, Password: pw, Addr: "10.0.0.2"}, session)
	if apperror.CodeOf(err) != apperror.Unavailable || apperror.MessageOf(err) != app.MsgLoginBusy {
		t.Fatalf("busy: %v", err)
	}
	if waited := time.Since(start); waited < 90*time.Millisecond {
		t.Fatalf("gave up after %v without waiting", waited)
	}
	release()
	if _, err := a.SignIn(context.Background(), app.SignInRequest{Email: u.Email, Password: pw, Addr: "10.0.0.2"}, session); err != nil {
		t.Fatalf("after release: %v", err)
	}
}

func TestSignInFailedAuditErrorIsSurfaced(t *testing.T) {
	t.Parallel()
	a, db, u := newAuthApp(t)
	ctx := context.Background()
	_, err := db.Pool.Exec(ctx, `
		CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$;
		CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW
		WHEN (NEW.action IN ('login.failed', 'logout')) EXECUTE FUNCTION refuse_audit();`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.SignIn(ctx, app.SignInRequest{Email: u.Email, Password: "wrong password!", Addr: "10.0.0.3"}, session)
	if apperror.CodeOf(err) != apperror.Unavailable || !strings.Contains(err.Error(), "audit refused") {
		t.Fatalf("failed audit of a failed sign-in: %v", err)
	}
	// Sign-out reports it too (the caller still ends the session).
	err = a.SignOut(ctx, app.User(u.ID), "some-token")
	if err == nil || !strings.Contains(err.Error(), "audit refused") {
		t.Fatalf("sign-out audit error dropped: %v", err)
	}
}

func TestGateCapsConcurrency(t *testing.T) {
	t.Parallel()
	g := auth.NewGate(2)
	r1, ok1 := g.Enter(context.Background(), time.Millisecond)
	_, ok2 := g.Enter(context.Background(), time.Millisecond)
	_, ok3 := g.Enter(context.Background(), 20*time.Millisecond)
	if !ok1 || !ok2 || ok3 {
		t.Fatalf("gate of 2: %v %v %v", ok1, ok2, ok3)
	}
	r1()
	if _, ok := g.Enter(context.Background(), time.Millisecond); !ok {
		t.Fatal("a freed slot was not reused")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, ok := g.Enter(ctx, time.Second); ok {
		t.Fatal("entered with a cancelled context")
	}
}
