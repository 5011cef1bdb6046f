// Package migrations holds Recondesk's SQL schema, applied in order by goose.
//
// Add a file named NNNNN_what.sql with `-- +goose Up` (and `-- +goose Down`);
// never edit a migration that has been committed.
package migrations

import "embed"

// FS is every migration file, embedded in the binary.
//
//go:embed *.sql
var FS embed.FS
