package main

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"recondesk/internal/config"
)

// cmdEZPassImport imports a file synchronously and prints a JSON summary.
func cmdEZPassImport(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	return errors.New("ezpass import: not available yet")
}

// seedEZPassFiles imports the demo E-ZPass sample files.
func seedEZPassFiles(ctx context.Context, env seedEnv) error { return nil }
