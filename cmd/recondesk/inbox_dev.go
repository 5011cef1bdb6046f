package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"recondesk/internal/app"
	"recondesk/internal/config"
	"recondesk/internal/devstack"
	"recondesk/internal/mail"
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

// seedReplies puts one of each kind of partner mail into the mailbox, so
// the demo shows them at once: an auto-reply, a human acknowledgement, a
// returned master file with mixed responses, a bounce, and a message that
// matches no batch. Partners answer only threads that started: each reply
// answers the newest sent email of a batch (In-Reply-To its Message-ID),
// the latest period's batches first; a batch with nothing sent yet gets no
// reply. Message-IDs are fixed, so a restart stores nothing twice.
func (d *inboxDev) seedReplies(ctx context.Context, cfg config.Config, pool *pgxpool.Pool) error {
	if d == nil {
		return nil
	}
	bs, err := store.ListBatches(ctx, pool, store.BatchFilter{})
	if err != nil {
		return err
	}
	slices.SortStableFunc(bs, func(x, y store.FaultyBatch) int { return strings.Compare(y.Period, x.Period) })
	kinds := []devstack.ReplyKind{devstack.ReplyAuto, devstack.ReplyHuman, devstack.ReplyReturnedFile, devstack.ReplyBounce}
	n := 0
	for _, b := range bs {
		if n == len(kinds) {
			break
		}
		e, ok, err := newestSentEmail(ctx, pool, b.ID)
		if err != nil {
			return err
		}
		if !ok || (kinds[n] == devstack.ReplyReturnedFile && e.MasterFileID == nil) {
			continue // no thread to answer yet (or no file to return: the next batch returns one)
		}
		msg, err := app.BuildFaultyMessage(ctx, pool, cfg.MailFrom, e)
		if err != nil {
			return err
		}
		original, err := mail.Render(msg, *e.SentAt)
		if err != nil {
			return err
		}
		at := time.Now().Add(-time.Hour)
		if !at.After(*e.SentAt) {
			at = e.SentAt.Add(time.Minute)
		}
		reply, err := devstack.BuildReply(kinds[n], original, devstack.ReplyOptions{
			MessageID: fmt.Sprintf("<demo.%d.%s@partner.example>", kinds[n], b.ID), Date: at})
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

// newestSentEmail is the batch's most recently sent email; ok is false when
// none was sent.
func newestSentEmail(ctx context.Context, pool *pgxpool.Pool, batchID string) (store.FaultyEmail, bool, error) {
	es, err := store.FaultyEmailsByBatch(ctx, pool, batchID)
	if err != nil {
		return store.FaultyEmail{}, false, err
	}
	var newest store.FaultyEmail
	ok := false
	for _, e := range es {
		if e.State != store.EmailSent || e.SentAt == nil {
			continue
		}
		if !ok || e.SentAt.After(*newest.SentAt) || e.SentAt.Equal(*newest.SentAt) && e.Seq > newest.Seq {
			newest, ok = e, true
		}
	}
	return newest, ok, nil
}
