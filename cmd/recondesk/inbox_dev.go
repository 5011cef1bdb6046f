package main

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"recondesk/internal/config"
	"recondesk/internal/devstack"
)

// startInboxDev starts the in-process IMAP server of `dev` when IMAP_URL is
// empty, and the partner simulator that answers the first demo emails into
// it. onSent is nil when a real mailbox is configured.
func startInboxDev(cfg *config.Config, log *slog.Logger, stdout io.Writer) (onSent func([]byte) error, stop func(), err error) {
	if cfg.IMAPURL != "" {
		return nil, func() {}, nil
	}
	srv, err := devstack.StartIMAP(devstack.IMAPOptions{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)})
	if err != nil {
		return nil, nil, fmt.Errorf("start the embedded IMAP server: %w", err)
	}
	cfg.IMAPURL = srv.URL()
	fmt.Fprintf(stdout, "embedded IMAP mailbox at %s (the partner simulator answers the first emails)\n", srv.Addr())
	sim := &devstack.PartnerSim{Deliver: srv.Deliver, Delay: 5 * time.Second}
	return sim.OnSent, func() { _ = srv.Close() }, nil
}
