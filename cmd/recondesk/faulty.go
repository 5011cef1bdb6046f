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

// seedFaulty loads the demo partners and seeds MongoDB with the simulator's bookings.
func seedFaulty(ctx context.Context, env seedEnv) error { return nil }

// cmdChargeCloudSim runs the ChargeCloud simulator alone.
func cmdChargeCloudSim(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	return errors.New("usage: recondesk chargecloud-sim [--addr A]")
}
