package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"recondesk/internal/devstack"
	"recondesk/internal/faulty"
	"recondesk/internal/jobs"
	"recondesk/internal/mail"
	"recondesk/internal/metrics"
	"recondesk/internal/store"
)

// faultyLadderBench sends one notification per batch for 1,000 batches
// (× scale): the tick decides the outbox rows (each with a regenerated
// master file attached), River's send workers deliver them through the
// in-process SMTP server. It reports messages/s end to end and the
// duplicates counted per Message-ID (target 0).
func faultyLadderBench(ctx context.Context, env Env) ([]Row, error) {
	n := max(10, int(1000*env.Scale))
	pool, drop, err := migratedDatabase(ctx, env, "recondesk_bench_faulty_ladder")
	if err != nil {
		return nil, err
	}
	defer drop()
	fmt.Fprintf(env.Out, "   faulty ladder: %d batches × 3 bookings\n", n)
	period := faulty.Period{Year: 2026, Month: time.January}
	policy := faulty.DefaultPolicy(time.UTC)
	if _, err := store.CreateLadderFixture(ctx, pool, store.LadderFixture{Period: period.String(), Batches: n, Items: 3,
		TrackedAt: policy.DayStart(period, 12), Cc: []string{"billing{n}@partner.test"}}); err != nil {
		return nil, err
	}
	smtp, err := devstack.StartSMTP(devstack.SMTPOptions{})
	if err != nil {
		return nil, err
	}
	defer smtp.Close()
	sender, err := mail.NewSender(smtp.URL(), mail.SenderOptions{Timeout: 30 * time.Second})
	if err != nil {
		return nil, err
	}
	now := policy.SendTime(period, policy.Notification.First).Add(time.Minute)
	ladder := jobs.FaultyLadderDeps{Sender: sender, Policy: policy, MailFrom: "Recondesk Finance <finance@recondesk.local>",
		MailDomain: "recondesk.local", Now: func() time.Time { return now }}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// The workers without the periodic schedule, so that only the measured tick decides.
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Logger:  log,
		Workers: jobs.Workers(jobs.Deps{Pool: pool, Logger: log, Metrics: metrics.New(), Faulty: jobs.FaultyDeps{Ladder: ladder}}),
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 8}},
	})
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := client.Start(runCtx); err != nil {
		return nil, err
	}
	defer func() {
		stop, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		_ = client.Stop(stop)
	}()

	began := time.Now()
	res, err := jobs.RunFaultyTick(ctx, jobs.TickRun{Pool: pool, Client: client, Ladder: ladder, Now: now, Actor: "system:bench"})
	if err != nil {
		return nil, err
	}
	tick := time.Since(began)
	fmt.Fprintf(env.Out, "   tick decided %d emails in %v\n", res.Decided, tick.Round(time.Millisecond))
	deadline := time.Now().Add(30 * time.Minute)
	var sent, failed int
	for {
		err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'sent'), count(*) FILTER (WHERE state IN ('failed', 'unknown'))
			FROM faulty_emails`).Scan(&sent, &failed)
		if err != nil {
			return nil, err
		}
		if sent+failed >= res.Decided || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	total := time.Since(began)
	again, err := jobs.RunFaultyTick(ctx, jobs.TickRun{Pool: pool, Client: client, Ladder: ladder, Now: now.Add(time.Hour), Actor: "system:bench"})
	if err != nil {
		return nil, err
	}
	counts := smtp.CountByMessageID()
	dups := 0
	for _, c := range counts {
		dups += c - 1
	}
	fmt.Fprintf(env.Out, "   %d sent, %d failed/unknown in %v; %d distinct Message-IDs, %d duplicates\n", sent, failed, total.Round(time.Millisecond), len(counts), dups)
	rate := float64(sent) / total.Seconds()
	yes := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "no"
	}
	return []Row{
		{Section: "faulty", Name: fmt.Sprintf("tick: decide %d notifications", n), Value: fmt.Sprintf("%.2f s", tick.Seconds()),
			Note: fmt.Sprintf("%.0f decisions/s; each regenerates the master file and enqueues faulty.send", float64(res.Decided)/tick.Seconds())},
		{Section: "faulty", Name: fmt.Sprintf("send %d notifications end to end", n), Value: fmt.Sprintf("%.0f msg/s", rate),
			Baseline: fmt.Sprintf("%.2f s total", total.Seconds()), Met: yes(sent == n && failed == 0),
			Target: "all sent", Note: fmt.Sprintf("%d sent, %d failed/unknown; 8 send workers, in-process SMTP", sent, failed)},
		{Section: "faulty", Name: "duplicates (per Message-ID)", Value: fmt.Sprint(dups), Target: "0", Met: yes(dups == 0 && len(counts) == n),
			Note: fmt.Sprintf("%d distinct Message-IDs received", len(counts))},
		{Section: "faulty", Name: "second tick (idempotent)", Value: fmt.Sprintf("%d decided", again.Decided), Target: "0", Met: yes(again.Decided == 0)},
	}, nil
}
