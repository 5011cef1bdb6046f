// Command recondesk is the one binary of Recondesk: the web server, the
// River workers, and the operational subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"recondesk/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "recondesk:", err)
		}
		os.Exit(1)
	}
}

const usage = `usage: recondesk <command> [flags]

commands:
  serve [--role all|web|worker]     HTTP server and/or River workers
  migrate                           apply app and River migrations
  dev                               migrate + embedded defaults + demo data + serve
  user add --email E --role R       create a user (password read from stdin)
  seed demo                         load the demo data set
  ezpass import FILE [--account A]  import an E-ZPass export now; prints a JSON summary
  ezpass associate | ezpass post    run association / posting now; prints JSON counts
  faulty ingest --period YYYY-MM    ingest + validate one period now; prints JSON counts
  faulty tick [--now RFC3339]       evaluate every batch's timeline once
  chargecloud-sim [--addr A]        run the ChargeCloud simulator alone
`

// run is the whole program; main only supplies the process's environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	switch args[0] {
	case "serve":
		return cmdServe(ctx, cfg, log, args[1:], stdout)
	case "migrate":
		return cmdMigrate(ctx, cfg, stdout)
	case "dev":
		return cmdDev(ctx, cfg, log, args[1:], stdout)
	case "user":
		return cmdUser(ctx, cfg, args[1:], stdin, stdout)
	case "seed":
		return cmdSeed(ctx, cfg, log, args[1:], stdout)
	case "ezpass":
		return cmdEZPass(ctx, cfg, log, args[1:], stdin, stdout)
	case "faulty":
		return cmdFaulty(ctx, cfg, log, args[1:], stdout)
	case "chargecloud-sim":
		return cmdChargeCloudSim(ctx, cfg, log, args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}
