package main

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"recondesk/internal/config"
)

// cmdEZPass handles `ezpass import|associate|post`.
func cmdEZPass(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdin io.Reader, stdout io.Writer) error {
	return errors.New("usage: recondesk ezpass import FILE [--account A] | associate | post")
}
