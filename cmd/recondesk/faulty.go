package main

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"recondesk/internal/config"
)

const faultyUsage = "usage: recondesk faulty ingest --period YYYY-MM | tick [--now RFC3339] | escalate --batch ID --note TEXT | resolve --batch ID [--items 1,2] --note TEXT"

// cmdFaulty dispatches `faulty ingest|tick|escalate|resolve`.
func cmdFaulty(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(faultyUsage)
	}
	switch args[0] {
	case "ingest":
		return cmdFaultyIngest(ctx, cfg, log, args[1:], stdout)
	case "tick":
		return cmdFaultyTick(ctx, cfg, log, args[1:], stdout)
	case "escalate":
		return cmdFaultyEscalate(ctx, cfg, log, args[1:], stdout)
	case "resolve":
		return cmdFaultyResolve(ctx, cfg, log, args[1:], stdout)
	}
	return errors.New(faultyUsage)
}
