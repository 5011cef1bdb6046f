package store_test

import (
	"context"
	"testing"
	"time"

	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

// TestSubjectNamesMixedKeys: ids of every shape (numbers, UUIDs, garbage)
// under every type are looked up in one query without cast errors.
func TestSubjectNamesMixedKeys(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	u, err := store.CreateUser(ctx, db.Pool, "ann@example.com", "finance", "x")
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{store.UserActor(u.ID), "user:abc", "system:seed", "faulty_batch:not-a-uuid", "faulty_batch:2f1c1a7e-3b0e-4a53-9d7e-6f7b2a0c9b11",
		"driver:1", "driver:", "ezpass_transaction:xyz", "EZPASS:12", "partner:99999999999999999999", "faulty_period:2026-03", "nokey"}
	names, err := store.SubjectNames(ctx, db.Pool, keys, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if n := names[store.UserActor(u.ID)]; n.Label != "ann@example.com" {
		t.Errorf("user name %+v", n)
	}
	if n := names["faulty_period:2026-03"]; n.URL != "/faulty/periods/2026-03" {
		t.Errorf("period %+v", n)
	}
	if len(names) != 2 {
		t.Errorf("names %v; want the user and the period only", names)
	}
}
