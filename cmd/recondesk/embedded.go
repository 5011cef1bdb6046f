package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"recondesk/internal/config"
	"recondesk/internal/devstack"
	"recondesk/internal/mail"
	"recondesk/internal/store"
	"recondesk/web"
)

// startSMTPSink starts the embedded SMTP server of `dev`; every message it
// receives is stored for Admin → Mailbox, then handed to onSent (the
// partner simulator) when it is set.
func startSMTPSink(ctx context.Context, log *slog.Logger, pool *pgxpool.Pool, onSent func([]byte) error) (*devstack.SMTPServer, error) {
	srv, err := devstack.StartSMTP(devstack.SMTPOptions{
		Domain:   "recondesk-dev-sink",
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		OnMessage: func(m devstack.Received) error {
			msg := store.MailboxMessage{From: m.From, To: m.To, Raw: m.Data}
			if p, err := mail.Parse(m.Data); err == nil {
				msg.MessageID, msg.Subject = p.MessageID, p.Subject
			}
			if _, err := store.InsertMailboxMessage(context.WithoutCancel(ctx), pool, msg); err != nil {
				return err
			}
			if onSent != nil {
				if err := onSent(m.Data); err != nil {
					log.Warn("partner simulator", "err", err)
				}
			}
			return nil
		},
	})
	if err != nil {
		return nil, fmt.Errorf("start the embedded SMTP sink: %w", err)
	}
	return srv, nil
}

// smtpCheck probes the SMTP server of SMTP_URL for /readyz.
func smtpCheck(smtpURL string) web.Check {
	return web.Check{Name: "smtp", Probe: func(ctx context.Context) error {
		u, err := url.Parse(smtpURL)
		if err != nil {
			return fmt.Errorf("SMTP_URL is not a URL")
		}
		host := u.Host
		if u.Port() == "" {
			port := "25"
			if u.Scheme == "smtps" {
				port = "465"
			}
			host = net.JoinHostPort(u.Hostname(), port)
		}
		var d net.Dialer
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		conn, err := d.DialContext(ctx, "tcp", host)
		if err != nil {
			return err
		}
		return conn.Close()
	}}
}

// dependencyChecks are the /readyz checks of the configured dependencies.
func dependencyChecks(cfg config.Config) []web.Check {
	var checks []web.Check
	if cfg.SMTPURL != "" {
		checks = append(checks, smtpCheck(cfg.SMTPURL))
	}
	return append(checks, faultyChecks(cfg)...)
}
