package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"recondesk/internal/apperror"
	"recondesk/internal/auth"
	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

func TestAuditEventsAreAppendOnly(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	if err := store.Audit(ctx, db.Pool, store.SystemActor("test"), "thing.done", "thing", "1", nil, map[string]int{"n": 1}, "because"); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		"UPDATE audit_events SET reason = 'changed'",
		"DELETE FROM audit_events",
		"TRUNCATE audit_events",
	} {
		_, err := db.Pool.Exec(ctx, sql)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v; want append-only refusal", sql, err)
		}
	}
	evs, err := store.ListAudit(ctx, db.Pool, store.AuditFilter{Action: "thing.done"})
	if err != nil || len(evs) != 1 || evs[0].Reason != "because" || string(evs[0].After) != `{"n": 1}` {
		t.Fatalf("events = %+v, %v", evs, err)
	}
}

func TestUsersAndTokens(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	u, err := store.CreateUser(ctx, db.Pool, " Alice@Example.com ", auth.Finance, "hash")
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "alice@example.com" {
		t.Fatalf("email not normalised: %q", u.Email)
	}
	if _, err := store.CreateUser(ctx, db.Pool, "alice@example.com", auth.Viewer, "h"); apperror.CodeOf(err) != apperror.Conflict {
		t.Fatalf("duplicate email: err = %v; want conflict", err)
	}
	tok, hash, prefix, _ := auth.NewToken()
	id, err := store.CreateAPIToken(ctx, db.Pool, u.ID, "ci", prefix, hash, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := store.UserByTokenHash(ctx, db.Pool, auth.HashToken(tok))
	if err != nil || got.ID != u.ID {
		t.Fatalf("UserByTokenHash = %+v, %v", got, err)
	}
	if err := store.RevokeAPIToken(ctx, db.Pool, id); err != nil {
		t.Fatal(err)
	}
	if _, err := store.UserByTokenHash(ctx, db.Pool, auth.HashToken(tok)); apperror.CodeOf(err) != apperror.Unauthenticated {
		t.Fatalf("revoked token: err = %v", err)
	}
}

func TestLoginFailures(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	for range 3 {
		if err := store.RecordLoginFailure(ctx, db.Pool, "account:a", "address:1.2.3.4"); err != nil {
			t.Fatal(err)
		}
	}
	since := time.Now().Add(-time.Minute)
	if n, _ := store.CountLoginFailures(ctx, db.Pool, "account:a", since); n != 3 {
		t.Fatalf("count = %d", n)
	}
	if err := store.ClearLoginFailures(ctx, db.Pool, "account:a", since.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	a, _ := store.CountLoginFailures(ctx, db.Pool, "account:a", since)
	ip, _ := store.CountLoginFailures(ctx, db.Pool, "address:1.2.3.4", since)
	if a != 0 || ip != 3 {
		t.Fatalf("after clear: account %d address %d", a, ip)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	n, err := store.Migrate(context.Background(), db.Pool)
	if err != nil || n != 0 {
		t.Fatalf("second migrate applied %d, err %v", n, err)
	}
}
