package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"recondesk/internal/app"
	"recondesk/internal/devstack"
	"recondesk/internal/faulty"
	"recondesk/internal/mail"
	"recondesk/internal/store"
)

// demoClock is the simulated clock the demo seed drives the application layer with
// (app.Deps.Now): each phase and ladder step runs at the date it would have run on.
type demoClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *demoClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *demoClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// demoNow is the seed's "today" (a fixed one in tests).
func (env seedEnv) demoNow() time.Time {
	if !env.now.IsZero() {
		return env.now
	}
	return time.Now()
}

// notLater returns t, or now when t lies after it: the demo never simulates the future.
func notLater(t, now time.Time) time.Time {
	if t.After(now) {
		return now
	}
	return t
}

// The notes the demo's staff actions carry.
const (
	demoReescalationNote = "Three reminders went unanswered. Please settle or dispute these bookings within 5 business days; " +
		"after that we will offset the amounts against your next invoice."
	demoResolveNote = "The partner paid the full amount (remittance advice received); every booking is settled."
)

// demoLadder drives the real ladder over one tracked period of the demo, at the simulated dates
// each step would have run on (never after now): the ticks of the notification, reminder and
// final reminder days; for the older period also, after its notification, one partner's
// dispute of every booking (demoDispute, dev only), a staff re-escalation two days after the
// escalation window and, at now, one batch resolved by staff, which decides its closing
// message. Decided emails are sent at once through the configured SMTP server (send is the
// outbox use case the faulty.send worker calls); without one they stay pending with their
// send jobs queued. Unique step keys make a second run decide nothing; the staff actions run
// only while their batch has none of its own yet.
func demoLadder(ctx context.Context, env seedEnv, a *app.App, clock *demoClock, period faulty.Period, older bool, send func(ids []int64)) error {
	now := env.demoNow()
	began := time.Now()
	policy := a.FaultyPolicy()
	batches, err := store.ListBatches(ctx, env.pool, store.BatchFilter{Period: period.String()})
	if err != nil || len(batches) == 0 {
		return err
	}
	// A stable order, so the staff actions pick the same batches on every run.
	slices.SortFunc(batches, func(x, y store.FaultyBatch) int { return strings.Compare(x.PartyID, y.PartyID) })
	ids := make([]string, len(batches))
	for i, b := range batches {
		ids[i] = b.ID
	}
	actor := app.System("faulty.tick")
	decided := 0
	for _, day := range []int{policy.Notification.First, policy.ReminderDay, policy.FinalReminderDay} {
		at := policy.SendTime(period, day)
		if at.After(now) {
			break
		}
		clock.set(at)
		res, err := a.Tick(ctx, app.TickInput{Now: at, Actor: actor, BatchIDs: ids})
		if err != nil {
			return fmt.Errorf("tick %s at %s: %w", period, at.Format(time.RFC3339), err)
		}
		var sent []int64
		for _, b := range res.Batches {
			for _, s := range b.Steps {
				if s.Outcome == app.StepDecided {
					sent = append(sent, s.EmailID)
				}
			}
		}
		decided += len(sent)
		send(sent)
		if older && day == policy.Notification.First && len(batches) >= 3 {
			// The smallest of the other batches, so Disputes stays a readable list.
			disputed := slices.MinFunc(batches[2:], func(x, y store.FaultyBatch) int { return x.Open - y.Open })
			if err := demoDispute(ctx, env, a, clock, period, disputed.ID, res); err != nil {
				return fmt.Errorf("partner dispute of batch %s: %w", disputed.ID, err)
			}
		}
	}
	if !older || len(batches) < 2 {
		fmt.Fprintf(env.stdout, "faulty bookings: %s ladder: %d emails decided in %v\n", period, decided, time.Since(began).Round(time.Millisecond))
		return nil
	}
	staff := app.System("seed")
	if u, err := store.UserByEmail(ctx, env.pool, env.cfg.DemoAdminEmail); err == nil {
		staff = app.User(u.ID)
	}
	// The second batch: staff escalate again after the window, with a note.
	b, err := store.LoadLadderBatch(ctx, env.pool, batches[1].ID)
	if err != nil {
		return err
	}
	if b.Facts.Open > 0 && b.Facts.ReEscalations() == 0 && len(b.Facts.Emails) > 0 {
		at := notLater(policy.SendTime(period, policy.Escalation.Last+2), now)
		clock.set(at)
		e, err := a.Reescalate(ctx, staff, b.ID, demoReescalationNote, at)
		if err != nil {
			return fmt.Errorf("re-escalate batch %s: %w", b.ID, err)
		}
		decided++
		send([]int64{e.ID})
	}
	// The first batch: the partner paid; staff resolve it today, which sends the closing message.
	b, err = store.LoadLadderBatch(ctx, env.pool, batches[0].ID)
	if err != nil {
		return err
	}
	if b.Facts.Open > 0 && len(b.Facts.Emails) > 0 {
		clock.set(now)
		res, err := a.ResolveBatch(ctx, staff, b.ID, demoResolveNote)
		if err != nil {
			return fmt.Errorf("resolve batch %s: %w", b.ID, err)
		}
		if res.Closing != nil {
			decided++
			send([]int64{res.Closing.EmailID})
		}
	}
	fmt.Fprintf(env.stdout, "faulty bookings: %s ladder: %d emails decided in %v\n", period, decided, time.Since(began).Round(time.Millisecond))
	return nil
}

// demoSender returns the send step of the demo ladder: with an SMTP server each decided email
// is sent now, its clock at the email's planned time (its Date and sent time); without one it
// does nothing, and the emails wait, pending with their send jobs queued, for `serve`.
func demoSender(ctx context.Context, env seedEnv, a *app.App, clock *demoClock, sent *int) func(ids []int64) {
	return func(ids []int64) {
		if a.Faulty.Sender == nil {
			return
		}
		for _, id := range ids {
			e, err := store.FaultyEmailByID(ctx, env.pool, id)
			if err != nil {
				env.log.Warn("demo ladder: load email", "email_id", id, "err", err)
				continue
			}
			clock.set(e.PlannedAt)
			res, err := a.Send(ctx, app.System("faulty.send"), id, false)
			if err != nil {
				// The queued faulty.send job retries it once `serve` runs.
				env.log.Warn("demo ladder: send", "email_id", id, "err", err)
				continue
			}
			if res.State == store.EmailSent {
				*sent++
			}
		}
	}
}

// demoDispute has the partner of a batch answer its notification two days later with the master
// file returned, every booking disputed, delivered into the embedded finance mailbox (dev only:
// env.inbox) and read by the real inbox poll at that simulated time. With every open booking
// disputed the ladder leaves the batch alone, so it stays at its notification and Disputes shows
// the partner's answers. It acts only when this run decided the batch's notification (notified
// holds the tick), so a second seed delivers nothing.
func demoDispute(ctx context.Context, env seedEnv, a *app.App, clock *demoClock, period faulty.Period, batchID string, notified app.TickResult) error {
	if env.inbox == nil || env.cfg.IMAPURL == "" {
		return nil
	}
	var emailID int64
	for _, b := range notified.Batches {
		if b.BatchID == batchID && len(b.Steps) > 0 && b.Steps[0].Outcome == app.StepDecided {
			emailID = b.Steps[0].EmailID
		}
	}
	if emailID == 0 {
		return nil
	}
	e, err := store.FaultyEmailByID(ctx, env.pool, emailID)
	if err != nil {
		return err
	}
	msg, err := app.BuildFaultyMessage(ctx, env.pool, env.cfg.MailFrom, e)
	if err != nil {
		return err
	}
	original, err := mail.Render(msg, e.PlannedAt)
	if err != nil {
		return err
	}
	items, err := store.LadderItems(ctx, env.pool, batchID, store.LadderItemFilter{State: store.ItemOpen, Limit: 100000})
	if err != nil {
		return err
	}
	rows := make([]devstack.ReturnedRow, 0, len(items))
	for _, it := range items {
		rows = append(rows, devstack.ReturnedRow{AuthRef: it.AuthRef, Response: "Disputed",
			Note: "the session ended normally on our side; the CDR was sent on time"})
	}
	at := a.FaultyPolicy().SendTime(period, a.FaultyPolicy().Notification.First+2).Add(90 * time.Minute)
	reply, err := devstack.BuildReply(devstack.ReplyReturnedFile, original, devstack.ReplyOptions{
		Date: at, MessageID: "<demo.dispute." + batchID + "@partner.example>", Rows: rows,
		Text: "Hello,\n\nwe checked every booking on your list: our side shows all of them as completed normally, " +
			"so we dispute them all. Our answers are in the attached file.\n\nKind regards,\nRoaming billing",
	})
	if err != nil {
		return err
	}
	if err := env.inbox(reply, at); err != nil {
		return err
	}
	clock.set(at)
	_, err = a.PollInbox(ctx, app.System("inbox.poll"))
	return err
}
