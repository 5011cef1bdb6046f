package app

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"go.mongodb.org/mongo-driver/mongo"

	"recondesk/internal/chargecloud"
	"recondesk/internal/config"
	"recondesk/internal/faulty"
	"recondesk/internal/mail"
)

// Mailer delivers one message and returns the server's final reply; a
// *mail.Sender is one.
type Mailer interface {
	Send(ctx context.Context, m mail.Message) (string, error)
}

// MasterFileFunc writes the master file version an email carries inside tx
// and returns its id and version (0, 0 when none is attached).
type MasterFileFunc func(ctx context.Context, tx pgx.Tx, batchID, reason string) (id int64, version int, err error)

// FaultyDeps are the faulty-bookings use cases' own dependencies.
type FaultyDeps struct {
	// Bookings is MongoDB's chargerbookings collection; nil makes validation fail with a clear reason.
	Bookings *mongo.Collection
	// ChargeCloud fetches the reports; nil makes ingestion fail with a clear reason.
	ChargeCloud *chargecloud.Client
	// Sender delivers the emails; nil leaves them pending (a temporary failure).
	Sender Mailer
	// Policy is the timeline; the zero value means FaultyPolicy(Config).
	Policy faulty.Policy
	// MailFrom is the From address; MailDomain the domain of Message-IDs.
	MailFrom, MailDomain string
	// Chunk is how many ids one MongoDB $in query carries (MONGODB_CHUNK); <= 0 means 1000.
	Chunk int
	// TempDir is where large worksheet parts are unzipped ("" means the system default).
	TempDir string
	// MaxAttempts bounds send attempts on temporary failures (default DefaultSendAttempts).
	MaxAttempts int
	// MasterFile writes the version each email carries; nil regenerates it
	// (RegenerateMasterFile); KeepMasterFile attaches the latest as it is.
	MasterFile MasterFileFunc
	// RetryDelay overrides River's backoff between send attempts (tests).
	RetryDelay time.Duration
}

// FaultyPolicy is the one constructor of the faulty-bookings policy: the
// §4.5 default in EMSP_TZ with SEND_HOUR.
func FaultyPolicy(cfg config.Config) faulty.Policy {
	p := faulty.DefaultPolicy(cfg.EMSPTZ)
	if cfg.SendHour != 0 {
		p.SendHour = cfg.SendHour
	}
	return p
}

// FaultyDepsFromConfig returns the parts of FaultyDeps that come from the
// configuration alone: the policy, the mail addresses, the chunk and an SMTP
// sender for SMTP_URL (none when it is empty). MongoDB and ChargeCloud are
// connected by the caller.
func FaultyDepsFromConfig(cfg config.Config) (FaultyDeps, error) {
	d := FaultyDeps{Policy: FaultyPolicy(cfg), MailFrom: cfg.MailFrom, MailDomain: cfg.MailDomain, Chunk: cfg.MongoChunk}
	if cfg.SMTPURL != "" {
		s, err := mail.NewSender(cfg.SMTPURL, mail.SenderOptions{})
		if err != nil {
			return d, fmt.Errorf("SMTP_URL: %w", err)
		}
		d.Sender = s
	}
	return d, nil
}

// FaultyPolicy is the policy the use cases apply (FaultyDeps.Policy, else
// the one built from Config).
func (a *App) FaultyPolicy() faulty.Policy {
	p := a.Faulty.Policy
	if p.Notification.First == 0 {
		p = FaultyPolicy(a.Config)
	}
	if p.Location == nil {
		p.Location = time.UTC
	}
	return p
}

func (a *App) mailDomain() string {
	if a.Faulty.MailDomain != "" {
		return a.Faulty.MailDomain
	}
	if a.Config.MailDomain != "" {
		return a.Config.MailDomain
	}
	return "recondesk.local"
}

func (a *App) mailFrom() string {
	if a.Faulty.MailFrom != "" {
		return a.Faulty.MailFrom
	}
	return a.Config.MailFrom
}

func (a *App) maxSendAttempts() int {
	if a.Faulty.MaxAttempts > 0 {
		return a.Faulty.MaxAttempts
	}
	return DefaultSendAttempts
}

// followUpTx queues a follow-up job in tx when a River client is at hand
// (UseJobs, or the worker's); without one the work waits for a later run
// (a pending email is enqueued by the next resend or tick of a worker).
func (a *App) followUpTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (int64, error) {
	res, err := a.insertTx(ctx, tx, args, opts)
	if err == errNoJobs {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return res.Job.ID, nil
}
