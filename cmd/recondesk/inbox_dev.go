package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"recondesk/internal/config"
	"recondesk/internal/devstack"
	"recondesk/internal/mail"
	"recondesk/internal/masterfile"
	"recondesk/internal/store"
)

// inboxDev is the in-process finance mailbox of `dev` and its partner simulator.
type inboxDev struct {
	srv *devstack.IMAPServer
	sim *devstack.PartnerSim
}

// startInboxDev starts the in-process IMAP server of `dev` when IMAP_URL is
// empty, with the partner simulator that answers the first emails of new
// threads. It returns nil when a real mailbox is configured.
func startInboxDev(cfg *config.Config, log *slog.Logger, stdout io.Writer) (*inboxDev, error) {
	if cfg.IMAPURL != "" {
		return nil, nil
	}
	srv, err := devstack.StartIMAP(devstack.IMAPOptions{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)})
	if err != nil {
		return nil, fmt.Errorf("start the embedded IMAP server: %w", err)
	}
	cfg.IMAPURL = srv.URL()
	fmt.Fprintf(stdout, "embedded IMAP mailbox at %s (a partner simulator answers the demo emails)\n", srv.Addr())
	return &inboxDev{srv: srv, sim: &devstack.PartnerSim{Deliver: srv.Deliver, Delay: 5 * time.Second}}, nil
}

// onSent hands a sent message to the simulator (nil-safe).
func (d *inboxDev) onSent() func([]byte) error {
	if d == nil {
		return nil
	}
	return d.sim.OnSent
}

// deliverAt puts a message into the embedded mailbox with its arrival time (nil without one).
func (d *inboxDev) deliverAt() func(raw []byte, at time.Time) error {
	if d == nil {
		return nil
	}
	return func(raw []byte, at time.Time) error { return d.srv.DeliverAt(d.srv.Mailbox(), raw, at) }
}

func (d *inboxDev) close() {
	if d != nil {
		_ = d.srv.Close()
	}
}

// seedReplies puts one of each kind of partner mail into the mailbox for the
// latest period's first batches, so the demo shows them at once: an
// auto-reply, a human acknowledgement, a returned master file with mixed
// responses, a bounce, and a message that matches no batch. Message-IDs are
// fixed, so a restart stores nothing twice.
func (d *inboxDev) seedReplies(ctx context.Context, cfg config.Config, pool *pgxpool.Pool) error {
	if d == nil {
		return nil
	}
	bs, err := store.ListBatches(ctx, pool, store.BatchFilter{})
	if err != nil || len(bs) == 0 {
		return err
	}
	latest := bs[0].Period
	for _, b := range bs {
		latest = max(latest, b.Period)
	}
	kinds := []devstack.ReplyKind{devstack.ReplyAuto, devstack.ReplyHuman, devstack.ReplyReturnedFile, devstack.ReplyBounce}
	n := 0
	for _, b := range bs {
		if b.Period != latest || n == len(kinds) {
			continue
		}
		p, err := store.PartnerByID(ctx, pool, b.PartnerID)
		if err != nil || len(p.To) == 0 {
			continue
		}
		original, err := demoOriginal(ctx, cfg, pool, b, p.To[0])
		if err != nil {
			return err
		}
		reply, err := devstack.BuildReply(kinds[n], original, devstack.ReplyOptions{
			MessageID: fmt.Sprintf("<demo.%d.%s@partner.example>", kinds[n], b.ID), Date: time.Now().Add(-time.Hour)})
		if err != nil {
			return err
		}
		if err := d.srv.Deliver(reply); err != nil {
			return err
		}
		n++
	}
	return d.srv.Deliver([]byte("From: Accounts <accounts@unknown-cpo.example>\r\nTo: " + cfg.MailFrom +
		"\r\nSubject: Invoice 2026-118\r\nMessage-ID: <demo.stray@unknown-cpo.example>\r\nDate: " + time.Now().Format(time.RFC1123Z) +
		"\r\n\r\nHello, which bookings does your November statement cover?\r\n"))
}

// demoOriginal is the first email of a batch's thread as the partner got it:
// the tagged subject and the batch's master file as it stands.
func demoOriginal(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, b store.FaultyBatch, to string) ([]byte, error) {
	var file []byte
	err := store.InTx(ctx, pool, func(tx pgx.Tx) error {
		content, err := store.LoadMasterFileContent(ctx, tx, []string{b.ID}, cfg.EMSPTZ, time.Now())
		if err != nil {
			return err
		}
		file, err = masterfile.Build(content[0])
		return err
	})
	if err != nil {
		return nil, err
	}
	return mail.Render(mail.Message{
		From: cfg.MailFrom, To: []string{to}, Subject: mail.TaggedSubject(b.PartnerName, b.PartyID, b.Period, false),
		MessageID: "<demo.original." + strings.ToLower(b.ID) + "@" + cfg.MailDomain + ">", Text: "Faulty bookings", Date: time.Now(),
		Attachments: []mail.Attachment{{Name: "master.xlsx", ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Data: file}},
	}, time.Now())
}
