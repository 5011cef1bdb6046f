package main

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"recondesk/internal/config"
)

// cmdEZPassAssociate runs association now and prints JSON counts.
func cmdEZPassAssociate(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	return errors.New("ezpass associate: not available yet")
}

// cmdEZPassPost runs posting now and prints JSON counts.
func cmdEZPassPost(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	return errors.New("ezpass post: not available yet")
}

// seedFleet loads the demo fleet (medallions, vehicles, plates, tags, drivers, leases).
func seedFleet(ctx context.Context, env seedEnv) error { return nil }
