package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/apperror"
	"recondesk/internal/mail"
	"recondesk/internal/notify"
	"recondesk/internal/store"
)

// SendResult is what one send attempt did.
type SendResult struct {
	State   string
	Outcome mail.Outcome
	Reply   string
	Err     error
}

// Send makes one attempt at an outbox row (DESIGN §4.6): lock; sent/failed/unknown →
// nothing; found sending → unknown, never resent; pending → commit sending, SMTP, commit the
// outcome. A temporary failure returns the row to pending and an error (so River retries)
// unless final is set, when it becomes failed.
func (a *App) Send(ctx context.Context, actor Actor, emailID int64, final bool) (SendResult, error) {
	count := func(state string) { a.Metrics.Events.WithLabelValues("faulty.email", state).Inc() }
	var e store.FaultyEmail
	var claim store.Claim
	err := a.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		e, claim, err = store.ClaimFaultyEmail(ctx, tx, emailID, a.Now())
		if err != nil || claim != store.ClaimUnknown {
			return err
		}
		return store.Audit(ctx, tx, actor.String(), "faulty.email_unknown", "faulty_email", fmt.Sprint(emailID),
			map[string]any{"state": store.EmailSending}, map[string]any{"state": store.EmailUnknown, "message_id": e.MessageID},
			"found in sending by a later attempt; not resent automatically")
	})
	if err != nil {
		return SendResult{}, err
	}
	switch claim {
	case store.ClaimDone:
		return SendResult{State: e.State}, nil
	case store.ClaimUnknown:
		count(store.EmailUnknown)
		return SendResult{State: store.EmailUnknown, Outcome: mail.Unknown}, nil
	}

	reply, sendErr := a.deliver(ctx, e)
	outcome := mail.Classify(sendErr)
	state := map[mail.Outcome]string{mail.Sent: store.EmailSent, mail.Temporary: store.EmailPending,
		mail.Permanent: store.EmailFailed, mail.Unknown: store.EmailUnknown}[outcome]
	if outcome == mail.Temporary && (final || e.Attempts >= a.maxSendAttempts()) {
		state = store.EmailFailed
	}
	errText := ""
	if sendErr != nil {
		errText = sendErr.Error()
	}
	// Record the outcome even when ctx was cancelled mid-send.
	wctx := context.WithoutCancel(ctx)
	err = a.inTx(wctx, func(tx pgx.Tx) error {
		changed, err := store.FinishFaultyEmail(wctx, tx, e.ID, e.Attempts, state, reply, errText, a.Now())
		if err != nil || !changed || state == store.EmailPending {
			return err
		}
		return store.Audit(wctx, tx, actor.String(), "faulty.email_"+state, "faulty_email", fmt.Sprint(e.ID),
			map[string]any{"state": store.EmailSending, "attempts": e.Attempts},
			map[string]any{"state": state, "message_id": e.MessageID, "reply": reply, "error": errText, "outcome": outcome.String()}, "")
	})
	if err != nil {
		return SendResult{}, err
	}
	count(state)
	res := SendResult{State: state, Outcome: outcome, Reply: reply, Err: sendErr}
	if state == store.EmailPending {
		return res, fmt.Errorf("faulty email %d: temporary failure, will retry: %w", e.ID, sendErr)
	}
	return res, nil
}

// errNoSender is a temporary failure: the process has no SMTP server configured.
var errNoSender = fmt.Errorf("%w: no SMTP server is configured (SMTP_URL)", mail.ErrConnect)

// deliver builds the message of row e and sends it.
func (a *App) deliver(ctx context.Context, e store.FaultyEmail) (string, error) {
	if a.Faulty.Sender == nil {
		return "", errNoSender
	}
	msg, err := BuildFaultyMessage(ctx, a.Pool, a.mailFrom(), e)
	if err != nil {
		if errors.Is(err, mail.ErrInvalidMessage) {
			return "", err
		}
		return "", fmt.Errorf("%w: build message: %w", mail.ErrConnect, err)
	}
	return a.Faulty.Sender.Send(ctx, msg)
}

// BuildFaultyMessage turns an outbox row into the message to send: its stored Message-ID and
// subject, In-Reply-To/References/Thread-Index from the thread's earlier rows, both bodies and
// the master file attached.
func BuildFaultyMessage(ctx context.Context, db store.DBTX, from string, e store.FaultyEmail) (mail.Message, error) {
	ids, times, err := store.ThreadUpTo(ctx, db, e.BatchID, e.Seq)
	if err != nil {
		return mail.Message{}, err
	}
	if len(times) != e.Seq {
		return mail.Message{}, fmt.Errorf("thread of batch %s has %d emails up to seq %d", e.BatchID, len(times), e.Seq)
	}
	guid, err := mail.ThreadGUID(e.BatchID)
	if err != nil {
		return mail.Message{}, err
	}
	msg := mail.Message{
		From: from, To: e.To, Cc: e.Cc, Subject: e.Subject, MessageID: e.MessageID,
		References:  mail.References(ids[:len(ids)-1]),
		ThreadTopic: strings.TrimPrefix(e.Subject, mail.ReplyPrefix),
		ThreadIndex: mail.ThreadIndex(times[0], guid, times[1:]),
		Text:        e.BodyText, HTML: e.BodyHTML, Date: e.PlannedAt,
	}
	if len(ids) > 1 {
		msg.InReplyTo = ids[len(ids)-2]
	}
	if e.MasterFileID != nil {
		version, data, err := store.FaultyAttachment(ctx, db, *e.MasterFileID)
		if err != nil {
			return mail.Message{}, err
		}
		partyID, period, err := store.BatchPartyPeriod(ctx, db, e.BatchID)
		if err != nil {
			return mail.Message{}, err
		}
		msg.Attachments = []mail.Attachment{{Name: notify.AttachmentName(partyID, period, version),
			ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Data: data}}
	}
	return msg, nil
}

// MarkSent records, with a note, that staff confirmed an unknown email did arrive.
func (a *App) MarkSent(ctx context.Context, actor Actor, emailID int64, note string) (store.FaultyEmail, error) {
	return a.emailAction(ctx, actor, emailID, note, false)
}

// Resend sends an unknown or failed email again with the same Message-ID: the row goes back
// to pending and its send job is queued in the same transaction.
func (a *App) Resend(ctx context.Context, actor Actor, emailID int64, note string) (store.FaultyEmail, error) {
	return a.emailAction(ctx, actor, emailID, note, true)
}

func (a *App) emailAction(ctx context.Context, actor Actor, id int64, note string, resend bool) (store.FaultyEmail, error) {
	note = strings.TrimSpace(note)
	var after store.FaultyEmail
	err := a.inTx(ctx, func(tx pgx.Tx) error {
		var before store.FaultyEmail
		var err error
		action := "faulty.email_marked_sent"
		if resend {
			action = "faulty.email_resend"
			before, after, err = store.ResendFaultyEmail(ctx, tx, id, note, a.Now())
		} else {
			before, after, err = store.MarkFaultyEmailSent(ctx, tx, id, note, a.Now())
		}
		if err != nil {
			return err
		}
		if resend {
			if _, err := a.insertTx(ctx, tx, FaultySendArgs{EmailID: id}, nil); err != nil {
				if err == errNoJobs {
					return apperror.New(apperror.Unavailable, "The job queue is not available; try again shortly.")
				}
				return err
			}
		}
		return store.Audit(ctx, tx, actor.String(), action, "faulty_email", fmt.Sprint(id),
			map[string]any{"state": before.State, "message_id": before.MessageID},
			map[string]any{"state": after.State, "message_id": after.MessageID, "batch_id": after.BatchID}, note)
	})
	return after, err
}
