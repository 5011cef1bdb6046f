package main

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"recondesk/internal/config"
)

// cmdFaultyTick evaluates every batch's timeline once.
func cmdFaultyTick(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	return errors.New("faulty tick: not available yet")
}
