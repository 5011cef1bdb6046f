package main

import (
	"context"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"recondesk/internal/store"
)

// emptyDatabase (re)creates an empty database on the server of env.AdminURL
// and returns its URL and a function that drops it (safe to call twice).
func emptyDatabase(ctx context.Context, env Env, name string) (string, func(), error) {
	admin, err := pgx.Connect(ctx, env.AdminURL)
	if err != nil {
		return "", nil, err
	}
	defer admin.Close(ctx)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := admin.Exec(ctx, `DROP DATABASE IF EXISTS `+ident+` WITH (FORCE)`); err != nil {
		return "", nil, err
	}
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+ident); err != nil {
		return "", nil, err
	}
	u, err := url.Parse(env.AdminURL)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	var once sync.Once
	drop := func() {
		once.Do(func() {
			if c, err := pgx.Connect(context.Background(), env.AdminURL); err == nil {
				_, _ = c.Exec(context.Background(), `DROP DATABASE IF EXISTS `+ident+` WITH (FORCE)`)
				c.Close(context.Background())
			}
		})
	}
	return u.String(), drop, nil
}

// migratedDatabase creates a fresh migrated database and returns a pool on
// it and a function that closes the pool and drops the database.
func migratedDatabase(ctx context.Context, env Env, name string) (*pgxpool.Pool, func(), error) {
	u, dropDB, err := emptyDatabase(ctx, env, name)
	if err != nil {
		return nil, nil, err
	}
	pool, err := store.Open(ctx, u)
	if err != nil {
		dropDB()
		return nil, nil, err
	}
	drop := func() { pool.Close(); dropDB() }
	if _, err := store.Migrate(ctx, pool); err != nil {
		drop()
		return nil, nil, err
	}
	return pool, drop, nil
}

// vmHWM is the process's peak resident set size in bytes (0 when unknown).
func vmHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
