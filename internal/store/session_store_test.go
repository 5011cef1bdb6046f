package store_test

import (
	"context"
	"testing"
	"time"

	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

// TestSessionStoreSkipsUnchangedRefreshes reads a session and commits it
// back as scs does on every request with an idle timeout: the same data
// with an expiry less than SessionRefresh later is not written; new data,
// or an expiry further on, is.
func TestSessionStoreSkipsUnchangedRefreshes(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	s := store.NewSessionStore(db.Pool)
	stored := func() ([]byte, time.Time) {
		t.Helper()
		var b []byte
		var e time.Time
		if err := db.Pool.QueryRow(ctx, `SELECT data, expiry FROM sessions WHERE token = 'tok'`).Scan(&b, &e); err != nil {
			t.Fatal(err)
		}
		return b, e
	}
	e0 := time.Now().Add(30 * time.Minute).UTC().Truncate(time.Microsecond)
	if err := s.CommitCtx(ctx, "tok", []byte("a"), e0); err != nil {
		t.Fatal(err)
	}
	if b, ok, err := s.FindCtx(ctx, "tok"); err != nil || !ok || string(b) != "a" {
		t.Fatalf("find = %q %v %v", b, ok, err)
	}
	// The next request, seconds later: same data, expiry pushed a little.
	if err := s.CommitCtx(ctx, "tok", []byte("a"), e0.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, e := stored(); !e.Equal(e0) {
		t.Fatalf("expiry rewritten for an unchanged session: %v, want %v", e, e0)
	}
	// Past the refresh interval the expiry is written.
	e1 := e0.Add(store.SessionRefresh + time.Second)
	if err := s.CommitCtx(ctx, "tok", []byte("a"), e1); err != nil {
		t.Fatal(err)
	}
	if _, e := stored(); !e.Equal(e1) {
		t.Fatalf("expiry %v, want %v", e, e1)
	}
	// Changed data is always written.
	if _, _, err := s.FindCtx(ctx, "tok"); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitCtx(ctx, "tok", []byte("b"), e1.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if b, _ := stored(); string(b) != "b" {
		t.Fatalf("data %q, want b", b)
	}
	// Deleted sessions are gone, and a later commit writes again.
	if err := s.DeleteCtx(ctx, "tok"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.FindCtx(ctx, "tok"); err != nil || ok {
		t.Fatalf("find after delete: %v %v", ok, err)
	}
	if err := s.CommitCtx(ctx, "tok", []byte("b"), e1.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if b, _ := stored(); string(b) != "b" {
		t.Fatalf("data after delete and commit %q", b)
	}
}
