package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"recondesk/internal/app"
	"recondesk/internal/apperror"
	"recondesk/internal/bookings"
	"recondesk/internal/chargecloud"
	"recondesk/internal/chargecloud/chargecloudsim"
	"recondesk/internal/config"
	"recondesk/internal/devstack"
	"recondesk/internal/faulty"
	"recondesk/internal/jobs"
	"recondesk/internal/metrics"
	"recondesk/internal/store"
	"recondesk/web"
)

// faultyPolicy is the §4.5 default policy in EMSP_TZ with SEND_HOUR (app.FaultyPolicy).
func faultyPolicy(cfg config.Config) faulty.Policy { return app.FaultyPolicy(cfg) }

// faultyPipelineDeps connects what the pipeline needs from cfg: MongoDB's bookings collection
// (when MONGODB_URI is set) and the ChargeCloud client (when CHARGECLOUD_URL is set). The
// returned function disconnects MongoDB.
func faultyPipelineDeps(ctx context.Context, cfg config.Config, log *slog.Logger) (jobs.FaultyPipelineDeps, func(), error) {
	d := jobs.FaultyPipelineDeps{Policy: faultyPolicy(cfg), Chunk: cfg.MongoChunk}
	stop := func() {}
	if cfg.ChargeCloudURL != "" {
		d.ChargeCloud = &chargecloud.Client{BaseURL: cfg.ChargeCloudURL, Token: cfg.ChargeCloudToken, Logger: log.With("component", "chargecloud")}
	}
	if cfg.MongoURI != "" {
		client, err := mongo.Connect(ctx, options.Client().ApplyURI(cfg.MongoURI).SetAppName("recondesk"))
		if err != nil {
			return d, stop, fmt.Errorf("MONGODB_URI: %w", err)
		}
		d.Bookings = client.Database(cfg.MongoDatabase).Collection(bookings.Collection)
		stop = func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = client.Disconnect(ctx)
		}
	}
	return d, stop, nil
}

// webFaultyPipelineDeps is what the partner, queue and period pages need from cfg.
func webFaultyPipelineDeps(cfg config.Config) web.FaultyPipelineDeps {
	return web.FaultyPipelineDeps{Policy: faultyPolicy(cfg)}
}

// cmdFaultyIngest ingests, validates and tracks one period now, through the same code as the
// jobs; prints JSON counts.
func cmdFaultyIngest(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("faulty ingest", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	periodFlag := fs.String("period", "", "the month to ingest, YYYY-MM")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w; usage: recondesk faulty ingest --period YYYY-MM", err)
	}
	period, err := faulty.ParsePeriod(strings.TrimSpace(*periodFlag))
	if err != nil {
		return errors.New("faulty ingest needs --period YYYY-MM, e.g. --period 2026-10")
	}
	if cfg.ChargeCloudURL == "" || cfg.MongoURI == "" {
		return errors.New("faulty ingest needs CHARGECLOUD_URL (and CHARGECLOUD_TOKEN) and MONGODB_URI; `recondesk dev` starts embedded ones")
	}
	pool, err := openSchema(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	deps, stop, err := faultyPipelineDeps(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stop()
	a := app.New(app.Deps{Pool: pool, Logger: log, Metrics: metrics.New(), Config: cfg, Faulty: jobs.FaultyDeps{Pipeline: deps}.App()})
	res, runErr := a.RunAllPhases(ctx, period, app.System("cli.faulty_ingest"))
	out := map[string]any{"period": period.String(), "phases": res}
	if runErr != nil {
		out["error"] = runErr.Error()
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	return runErr
}

// demoSimOptions is the simulator of `dev` and of the demo seed: both build the same data set
// (the month before now in EMSP_TZ) from it.
func demoSimOptions(cfg config.Config) chargecloudsim.Options {
	return demoSimOptionsAt(cfg, time.Now())
}

// demoSimOptionsAt is demoSimOptions relative to now.
func demoSimOptionsAt(cfg config.Config, now time.Time) chargecloudsim.Options {
	// The previous two months, relative to today, so the demo always has a
	// batch further along the ladder and a fresh one.
	last := faulty.PeriodOf(now, cfg.EMSPTZ).Prev()
	return chargecloudsim.Options{Seed: 1, Partners: 6, BookingsPerPeriod: 1200, Location: cfg.EMSPTZ,
		Periods: []faulty.Period{last.Prev(), last}}
}

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "sim-" + hex.EncodeToString(b)
}

// serveSim serves a simulator on addr until stop is called.
func serveSim(sim *chargecloudsim.Sim, addr string, log *slog.Logger) (string, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("ChargeCloud simulator: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	return "http://" + ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}

// cmdChargeCloudSim runs the ChargeCloud simulator alone until Ctrl-C.
func cmdChargeCloudSim(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("chargecloud-sim", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", "127.0.0.1:8090", "listen address")
	seed := fs.Int64("seed", 1, "data set seed")
	partners := fs.Int("partners", 6, "number of partners (1..22)")
	perPeriod := fs.Int("bookings", 1200, "bookings per period")
	periods := fs.String("periods", "", "comma-separated YYYY-MM months (default: last month)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w; usage: recondesk chargecloud-sim [--addr A] [--seed N] [--partners N] [--bookings N] [--periods YYYY-MM,...]", err)
	}
	opts := chargecloudsim.Options{Seed: *seed, Partners: *partners, BookingsPerPeriod: *perPeriod, Location: cfg.EMSPTZ, Token: cfg.ChargeCloudToken}
	if opts.Token == "" {
		opts.Token = randomToken()
	}
	for _, s := range strings.Split(*periods, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := faulty.ParsePeriod(s)
		if err != nil {
			return fmt.Errorf("--periods: %q is not YYYY-MM", s)
		}
		opts.Periods = append(opts.Periods, p)
	}
	sim := chargecloudsim.New(opts)
	url, stop, err := serveSim(sim, *addr, log)
	if err != nil {
		return err
	}
	defer stop()
	var ps []string
	for _, p := range sim.Periods() {
		ps = append(ps, p.String())
	}
	fmt.Fprintf(stdout, "ChargeCloud simulator at %s (periods %s)\nCHARGECLOUD_URL=%s\nCHARGECLOUD_TOKEN=%s\n", url, strings.Join(ps, ", "), url, sim.Token())
	<-ctx.Done()
	return nil
}

// levelFilter drops records below a level (the embedded servers are chatty at warn).
type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (h levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

// startFaultyDev starts, when their URLs are empty, the embedded MongoDB-compatible server and
// the ChargeCloud simulator, and points cfg at them. The returned function stops them.
func startFaultyDev(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer) (func(), error) {
	var stops []func()
	stopAll := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	if cfg.MongoURI == "" {
		uri, stop, err := devstack.StartFerretDB(ctx, devstack.FerretOptions{
			Dir:    filepath.Join(cfg.DataDir, "ferretdb"),
			Logger: slog.New(levelFilter{log.With("component", "ferretdb").Handler(), slog.LevelError}),
		})
		if err != nil {
			return stopAll, fmt.Errorf("start the embedded MongoDB-compatible server: %w", err)
		}
		stops = append(stops, stop)
		cfg.MongoURI = uri
		fmt.Fprintf(stdout, "embedded MongoDB-compatible server (FerretDB) at %s\n", uri)
	}
	if cfg.ChargeCloudURL == "" {
		opts := demoSimOptions(*cfg)
		opts.Token = randomToken()
		url, stop, err := serveSim(chargecloudsim.New(opts), "127.0.0.1:0", log)
		if err != nil {
			stopAll()
			return func() {}, err
		}
		stops = append(stops, stop)
		cfg.ChargeCloudURL, cfg.ChargeCloudToken = url, opts.Token
		fmt.Fprintf(stdout, "ChargeCloud simulator at %s\n", url)
	}
	return stopAll, nil
}

// faultyChecks are the /readyz checks of MongoDB when configured.
func faultyChecks(cfg config.Config) []web.Check {
	if cfg.MongoURI == "" {
		return nil
	}
	client, err := mongo.Connect(context.Background(), options.Client().ApplyURI(cfg.MongoURI).
		SetServerSelectionTimeout(2*time.Second).SetConnectTimeout(2*time.Second))
	return []web.Check{{Name: "mongodb", Probe: func(ctx context.Context) error {
		if err != nil {
			return errors.New("MONGODB_URI is not a valid MongoDB URI")
		}
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		return client.Ping(ctx, nil)
	}}}
}

// demoAddress is a partner's demo mailbox.
func demoAddress(role, partyID string) string {
	slug := strings.ToLower(strings.NewReplacer("*", "-", " ", "-").Replace(partyID))
	return role + "@" + slug + ".example"
}

// seedSimData adds the data set's partners that do not exist yet (an admin's edits are kept) and
// writes its bookings to MongoDB (coll may be nil), idempotently. It returns how many partners
// it added.
func seedSimData(ctx context.Context, pool *pgxpool.Pool, coll *mongo.Collection, ds chargecloudsim.Dataset) (int, bookings.SeedResult, error) {
	added := 0
	var res bookings.SeedResult
	for _, p := range ds.Partners {
		if _, err := store.PartnerByPartyID(ctx, pool, p.PartyID); err == nil {
			continue
		} else if apperror.CodeOf(err) != apperror.NotFound {
			return added, res, err
		}
		err := store.InTx(ctx, pool, func(tx pgx.Tx) error {
			saved, err := store.CreatePartner(ctx, tx, store.PartnerInput{PartyID: p.PartyID, Name: p.Name, CredentialIDs: p.Credentials,
				To: []string{demoAddress("billing", p.PartyID)}, CC: []string{demoAddress("roaming", p.PartyID)},
				Escalation: []string{demoAddress("escalation", p.PartyID)}, Active: true})
			if err != nil {
				return err
			}
			added++
			return store.Audit(ctx, tx, "system:seed", "partner.create", "partner", fmt.Sprint(saved.ID), nil, saved, "demo data")
		})
		if err != nil && apperror.CodeOf(err) != apperror.Conflict {
			return added, res, err
		}
	}
	if coll == nil {
		return added, res, nil
	}
	res, err := bookings.Seed(ctx, coll, ds.Docs())
	if err != nil {
		return added, res, fmt.Errorf("seed MongoDB bookings: %w", err)
	}
	return added, res, nil
}

// seedFaulty loads the demo partners (the simulator's unknown Party IDs stay unknown on purpose,
// to fill the queue), seeds MongoDB with the simulator's bookings, and ingests, validates and
// tracks last month once, so the demo shows batches. Running it again adds nothing.
func seedFaulty(ctx context.Context, env seedEnv) error { return seedFaultyMonths(ctx, env, 1) }

// seedFaultyMonths is seedFaulty for the last n months (at most the two the
// demo simulator holds), without the ladder.
func seedFaultyMonths(ctx context.Context, env seedEnv, n int) error {
	return seedFaultyPeriods(ctx, env, n, false)
}

// seedFaultyDemo is the faulty-bookings part of the demo: the last two months tracked, then
// driven along the real ladder at simulated dates (demoLadder), so the older month's batches
// have their reminders, escalations, a re-escalation and a closing message and the newer
// month's whatever its days so far have brought. Running it again adds nothing.
func seedFaultyDemo(ctx context.Context, env seedEnv) error {
	return seedFaultyPeriods(ctx, env, 2, true)
}

// seedFaultyPeriods seeds the last n months of the demo simulator, each phase run with the
// application's clock at the first day of its window (never after now), and with ladder set
// drives the ladder over them.
func seedFaultyPeriods(ctx context.Context, env seedEnv, n int, ladder bool) error {
	now := env.demoNow()
	if ladder {
		// One seed at a time: the staff steps of demoLadder check, then act.
		conn, err := env.pool.Acquire(ctx)
		if err != nil {
			return err
		}
		defer conn.Release()
		if err := store.LockDemoSeed(ctx, conn); err != nil {
			return err
		}
		defer func() { _ = store.UnlockDemoSeed(context.WithoutCancel(ctx), conn) }()
	}
	sim := chargecloudsim.New(demoSimOptionsAt(env.cfg, now))
	if env.mongoURI == "" {
		added, _, err := seedSimData(ctx, env.pool, nil, sim.Dataset())
		fmt.Fprintf(env.stdout, "faulty bookings: %d demo partners added; MONGODB_URI is empty, so no bookings were seeded\n", added)
		return err
	}
	cfg := env.cfg
	cfg.MongoURI = env.mongoURI
	deps, stop, err := faultyPipelineDeps(ctx, cfg, env.log)
	if err != nil {
		return err
	}
	defer stop()
	added, res, err := seedSimData(ctx, env.pool, deps.Bookings, sim.Dataset())
	if err != nil {
		return err
	}
	todo := map[faulty.Period]bool{}
	periods := sim.Periods()
	periods = periods[len(periods)-min(n, len(periods)):]
	for _, period := range periods {
		fp, err := store.FaultyPeriodByID(ctx, env.pool, period.String())
		if err == nil && fp.TrackedAt != nil {
			fmt.Fprintf(env.stdout, "faulty bookings: %s already tracked\n", period)
			continue
		}
		todo[period] = true
	}
	fmt.Fprintf(env.stdout, "faulty bookings: %d partners added, MongoDB %+v\n", added, res)
	if len(todo) == 0 && !ladder {
		return nil
	}
	if deps.ChargeCloud == nil && len(todo) > 0 {
		// `seed demo` without a ChargeCloud: serve the demo simulator just for this ingestion.
		opts := demoSimOptionsAt(env.cfg, now)
		opts.Token = randomToken()
		url, stopSim, err := serveSim(chargecloudsim.New(opts), "127.0.0.1:0", env.log)
		if err != nil {
			return err
		}
		defer stopSim()
		deps.ChargeCloud = &chargecloud.Client{BaseURL: url, Token: opts.Token, Logger: env.log}
	}
	fd := jobs.FaultyDeps{Pipeline: deps}.App()
	if ladder {
		mailDeps, err := app.FaultyDepsFromConfig(env.cfg)
		if err != nil {
			return err
		}
		fd.Sender, fd.MailFrom, fd.MailDomain = mailDeps.Sender, mailDeps.MailFrom, mailDeps.MailDomain
	}
	clock := &demoClock{t: now}
	a := app.New(app.Deps{Pool: env.pool, Logger: env.log, Config: env.cfg, Now: clock.Now, Faulty: fd})
	if ladder {
		// Insert-only: the decided emails get their faulty.send jobs, as from the scheduled tick.
		if _, err := jobs.NewClient(jobs.Deps{App: a, Pool: env.pool, Logger: env.log, Metrics: a.Metrics}, jobs.RoleWeb); err != nil {
			return err
		}
	}
	policy := a.FaultyPolicy()
	began := time.Now()
	sent := 0
	send := demoSender(ctx, env, a, clock, &sent)
	for i, period := range periods {
		if todo[period] {
			var results []app.PhaseResult
			for _, ph := range faulty.PeriodPhases {
				w, _ := policy.Window(ph)
				clock.set(notLater(policy.SendTime(period, w.First), now))
				r, err := a.RunPhase(ctx, app.PhaseRun{Period: period, Phase: ph, Actor: app.System("seed")})
				if err != nil {
					return fmt.Errorf("ingest the demo month %s: %w", period, err)
				}
				results = append(results, r)
			}
			tr := results[len(results)-1].Tracking
			fmt.Fprintf(env.stdout, "faulty bookings: %s ingested: %d rows, %d batches, %d items\n",
				period, results[0].Ingest.Distinct, tr.Batches, tr.Created)
		}
		if ladder {
			if err := demoLadder(ctx, env, a, clock, period, i < len(periods)-1, send); err != nil {
				return fmt.Errorf("demo ladder of %s: %w", period, err)
			}
		}
	}
	if ladder {
		fmt.Fprintf(env.stdout, "faulty bookings: %d demo emails sent; phases and ladder took %v\n", sent, time.Since(began).Round(time.Millisecond))
	}
	return nil
}
