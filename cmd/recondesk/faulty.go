package main

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"recondesk/internal/config"
)

// cmdFaulty handles `faulty ingest|tick`.
func cmdFaulty(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	return errors.New("usage: recondesk faulty ingest --period YYYY-MM | tick [--now RFC3339]")
}

// cmdChargeCloudSim runs the ChargeCloud simulator alone.
func cmdChargeCloudSim(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	return errors.New("usage: recondesk chargecloud-sim [--addr A]")
}
