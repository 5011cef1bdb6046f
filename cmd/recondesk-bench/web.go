package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"recondesk/internal/auth"
	"recondesk/internal/config"
	"recondesk/internal/demo"
	"recondesk/internal/jobs"
	"recondesk/internal/metrics"
	"recondesk/internal/store"
	"recondesk/web"
)

// Targets of issue 10 for every list and summary page at 1M tolls.
const (
	webTargetMedian = 30 * time.Millisecond
	webTargetP95    = 150 * time.Millisecond
)

// webBench measures the list and summary pages (issue 10) on two data
// sets, 20k tolls and 1M × scale tolls, with the same fleet (20k vehicles
// × scale) and 61 days of tolls up to today: tolls written with COPY (the
// plain indexes built after), the real association (store.Associate, then
// ANALYZE as app.Associate does) and the real posting (store.Post, journals
// stamped now), then VACUUM ANALYZE; each phase's time is printed. The
// real HTTP server (role web, a signed-in viewer) answers each page first
// to one client (median of sequential requests, with the server's round
// trips counted), then to 20 concurrent clients (p95); the table puts the
// large set next to the small one with their ratio and the target.
func webBench(ctx context.Context, env Env) ([]Row, error) {
	const section = "web"
	small := 20000
	large := max(small, int(1_000_000*env.Scale))
	vehicles := max(200, int(20000*env.Scale))
	var sets []webResult
	for _, n := range []int{small, large} {
		res, err := webMeasure(ctx, env, n, vehicles)
		if err != nil {
			return nil, fmt.Errorf("%d tolls: %w", n, err)
		}
		sets = append(sets, res)
	}
	s, l := sets[0], sets[1]
	met := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "no"
	}
	var rows []Row
	for i, p := range l.pages {
		sp := s.pages[i]
		note := fmt.Sprintf("%d tolls vs %d; %s; %.1f queries/request (%s)", large, small, p.note, p.queries, ms(p.db))
		rows = append(rows,
			Row{Section: section, Name: p.name + " 1 user median", Value: ms(p.median), Baseline: ms(sp.median),
				Ratio: fmt.Sprintf("%.2f×", p.median.Seconds()/max(sp.median.Seconds(), 1e-6)), Target: "≤ " + ms(webTargetMedian),
				Met: met(p.median <= webTargetMedian), Note: note},
			Row{Section: section, Name: p.name + " 20 clients p95", Value: ms(p.p95), Baseline: ms(sp.p95),
				Ratio: fmt.Sprintf("%.2f×", p.p95.Seconds()/max(sp.p95.Seconds(), 1e-6)), Target: "≤ " + ms(webTargetP95),
				Met: met(p.p95 <= webTargetP95), Note: note})
	}
	return rows, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// webPage is one page's figures.
type webPage struct {
	name, path, note string
	median, p95      time.Duration
	queries          float64       // round trips per request (1 user)
	db               time.Duration // their time per request, as the server saw it
}

// webTracer counts the server's queries and their time.
type webTracer struct {
	n, ns atomic.Int64
}

type webTraceKey struct{}

func (t *webTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return context.WithValue(ctx, webTraceKey{}, time.Now())
}

func (t *webTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryEndData) {
	if began, ok := ctx.Value(webTraceKey{}).(time.Time); ok {
		t.n.Add(1)
		t.ns.Add(int64(time.Since(began)))
	}
}

func (t *webTracer) reset() { t.n.Store(0); t.ns.Store(0) }

func (t *webTracer) read() (int64, time.Duration) { return t.n.Load(), time.Duration(t.ns.Load()) }

// webResult is the figures of one data set.
type webResult struct {
	tolls int
	pages []webPage
}

// webBuildTimes are the phases of building one data set.
type webBuildTimes struct {
	fleet, tolls, associate, post, analyze time.Duration
	reused                                 bool
	handedOver                             bool // built by the ezpass-match section
}

func (b webBuildTimes) String() string {
	if b.reused {
		return "reused the kept database"
	}
	by := ""
	if b.handedOver {
		by = "built by the ezpass-match section: "
	}
	return by + fmt.Sprintf("fleet %v, tolls (COPY, then the plain indexes built) %v, association (store.Associate) %v, posting (store.Post) %v, VACUUM ANALYZE %v",
		b.fleet.Round(time.Millisecond), b.tolls.Round(time.Millisecond), b.associate.Round(time.Millisecond),
		b.post.Round(time.Millisecond), b.analyze.Round(time.Millisecond))
}

// webDatabase returns a pool on the data set of n tolls: built in a fresh
// database, or, with env.KeepWeb, the kept one of that name when it holds
// the n tolls already (new migrations applied).
func webDatabase(ctx context.Context, env Env, n, vehicles int, tz *time.Location) (*pgxpool.Pool, func(), webBuildTimes, error) {
	var bt webBuildTimes
	name := fmt.Sprintf("recondesk_bench_web_%d", n) + env.DBSuffix
	if env.KeepWeb != "" {
		name = env.KeepWeb + "_" + webSize(n)
		if u, err := emURL(env.AdminURL, name); err == nil {
			if pool, err := store.Open(ctx, u); err == nil {
				var have int64 // the tolls of a build that finished (bench_web_built)
				err := pool.QueryRow(ctx, `SELECT tolls FROM bench_web_built`).Scan(&have)
				if err == nil && have == int64(n) {
					if _, err := store.Migrate(ctx, pool); err != nil {
						pool.Close()
						return nil, nil, bt, err
					}
					bt.reused = true
					return pool, pool.Close, bt, nil
				}
				pool.Close()
			}
		}
	}
	if h := env.Handoff; h != nil && h.db != "" && h.tolls == n {
		// Built by the ezpass-match section of this run.
		u, err := emURL(env.AdminURL, h.db)
		if err != nil {
			return nil, nil, bt, err
		}
		pool, err := store.Open(ctx, u)
		if err != nil {
			return nil, nil, bt, err
		}
		bt, drop := h.build, h.drop
		bt.handedOver = true
		h.db, h.drop = "", nil
		return pool, func() { pool.Close(); drop() }, bt, nil
	}
	pool, drop, err := migratedDatabase(ctx, env, name)
	if err != nil {
		return nil, nil, bt, err
	}
	if env.KeepWeb != "" {
		drop = pool.Close
	}
	fail := func(err error) (*pgxpool.Pool, func(), webBuildTimes, error) {
		drop()
		return nil, nil, bt, err
	}
	began := time.Now()
	fleet := benchFleet(vehicles, tz)
	if _, err := demo.Load(ctx, pool, fleet); err != nil {
		return fail(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE medallions, vehicles, plate_bindings, tag_bindings, drivers, leases, lease_drivers`); err != nil {
		return fail(err)
	}
	bt.fleet = time.Since(began)
	began = time.Now()
	if err := bulkCopyTolls(ctx, pool, fleet, n); err != nil {
		return fail(err)
	}
	bt.tolls = time.Since(began)
	// The association use case's store path: lock, associate, ANALYZE the
	// tolls when many changed (app.Associate), commit.
	began = time.Now()
	if err := store.InTx(ctx, pool, func(tx pgx.Tx) error {
		if err := store.LockAssociation(ctx, tx); err != nil {
			return err
		}
		if _, err := store.Associate(ctx, tx, tz); err != nil {
			return err
		}
		_, err := store.AnalyzeTolls(ctx, tx)
		return err
	}); err != nil {
		return fail(fmt.Errorf("association: %w", err))
	}
	bt.associate = time.Since(began)
	began = time.Now()
	if _, err := store.Post(ctx, pool, "system:bench", 0); err != nil {
		return fail(fmt.Errorf("posting: %w", err))
	}
	bt.post = time.Since(began)
	began = time.Now()
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return fail(err)
	}
	bt.analyze = time.Since(began)
	if _, err := pool.Exec(ctx, `CREATE TABLE bench_web_built AS SELECT $1::bigint AS tolls`, n); err != nil {
		return fail(err)
	}
	return pool, drop, bt, nil
}

// benchFleet is the fleet of the web and ezpass-match sections: sixty-one
// days of leases up to the start of today, so that tolls (and postings,
// stamped now() by store.Post) fall in the pages' windows.
func benchFleet(vehicles int, tz *time.Location) *demo.Fleet {
	today := time.Now().In(tz)
	until := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, tz)
	return demo.Generate(demo.Options{Seed: 7, Vehicles: vehicles, Start: until.AddDate(0, 0, -61), Days: 68, Until: until, Loc: tz})
}

// bulkCopyTolls writes the tolls with COPY into the table without its plain
// indexes, then builds them (a bulk build is several times faster than a
// million index insertions each); the unique and exclusion constraints
// stay in place, so the rows are checked as an import's would be.
func bulkCopyTolls(ctx context.Context, pool *pgxpool.Pool, fleet *demo.Fleet, n int) error {
	rows, err := pool.Query(ctx, `SELECT indexname, indexdef FROM pg_indexes i
		WHERE schemaname = current_schema() AND tablename = 'ezpass_transactions'
			AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
			AND indexdef NOT LIKE 'CREATE UNIQUE%'`)
	if err != nil {
		return err
	}
	type index struct{ name, def string }
	indexes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (index, error) {
		var i index
		return i, r.Scan(&i.name, &i.def)
	})
	if err != nil {
		return err
	}
	for _, i := range indexes {
		if _, err := pool.Exec(ctx, `DROP INDEX `+pgx.Identifier{i.name}.Sanitize()); err != nil {
			return err
		}
	}
	if err := emCopyTolls(ctx, pool, fleet, n); err != nil {
		return err
	}
	for _, i := range indexes {
		if _, err := pool.Exec(ctx, i.def); err != nil {
			return fmt.Errorf("%s: %w", i.name, err)
		}
	}
	return nil
}

// webSize names a data set size: 20k, 1m, 100k.
func webSize(n int) string {
	if n >= 1_000_000 && n%1_000_000 == 0 {
		return fmt.Sprintf("%dm", n/1_000_000)
	}
	return fmt.Sprintf("%dk", n/1000)
}

// webMeasure builds (or reuses) a data set of n tolls and measures every page on it.
func webMeasure(ctx context.Context, env Env, n, vehicles int) (webResult, error) {
	tz, err := time.LoadLocation("America/New_York")
	if err != nil {
		return webResult{}, err
	}
	pool, drop, bt, err := webDatabase(ctx, env, n, vehicles, tz)
	if err != nil {
		return webResult{}, err
	}
	defer drop()
	var journals, vehicleCount int64
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM ledger_journals), (SELECT count(*) FROM vehicles)`).Scan(&journals, &vehicleCount); err != nil {
		return webResult{}, err
	}
	fmt.Fprintf(env.Out, "   %d tolls, %d vehicles, %d journals: %s\n", n, vehicleCount, journals, bt)

	// The busiest driver, with its medallion and a tag, picks the filters.
	var driverID, importID int64
	var tlc, medallion, tag, lastAt string
	if err := pool.QueryRow(ctx, `SELECT t.driver_id, d.tlc_license, m.number, t.import_id
		FROM ezpass_transactions t JOIN drivers d ON d.id = t.driver_id JOIN medallions m ON m.id = t.medallion_id
		WHERE t.driver_id = (SELECT driver_id FROM ezpass_transactions WHERE driver_id IS NOT NULL
			GROUP BY 1 ORDER BY count(*) DESC LIMIT 1) LIMIT 1`).Scan(&driverID, &tlc, &medallion, &importID); err != nil {
		return webResult{}, err
	}
	if err := pool.QueryRow(ctx, `SELECT tag, to_char(max(txn_at) AT TIME ZONE 'America/New_York', 'YYYY-MM-DD')
		FROM ezpass_transactions WHERE tag IS NOT NULL GROUP BY tag ORDER BY count(*) DESC LIMIT 1`).Scan(&tag, &lastAt); err != nil {
		return webResult{}, err
	}
	// The server's own pool, traced: round trips and their time per page.
	cfg := pool.Config()
	tracer := &webTracer{}
	cfg.ConnConfig.Tracer = tracer
	srvPool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return webResult{}, err
	}
	defer srvPool.Close()
	srv, client, err := webServer(ctx, srvPool, time.Now())
	if err != nil {
		return webResult{}, err
	}
	defer srv.Close()

	q := url.QueryEscape
	pages := []webPage{
		{name: "/ezpass/transactions", path: "/ezpass/transactions", note: "default (txn_at)"},
		{name: "  sort=amount desc", path: "/ezpass/transactions?sort=amount&desc=1"},
		{name: "  sort=agency", path: "/ezpass/transactions?sort=agency"},
		{name: "  sort=plate", path: "/ezpass/transactions?sort=plate"},
		{name: "  sort=status", path: "/ezpass/transactions?sort=status&desc=1"},
		{name: "  sort=created", path: "/ezpass/transactions?sort=created&desc=1"},
		{name: "  status=association_failed", path: "/ezpass/transactions?status=association_failed"},
		{name: "  agency=PANYNJ", path: "/ezpass/transactions?agency=PANYNJ"},
		{name: "  vehicle (tag)", path: "/ezpass/transactions?vehicle=" + q(tag)},
		{name: "  driver (TLC)", path: "/ezpass/transactions?driver=" + q(tlc)},
		{name: "  medallion", path: "/ezpass/transactions?medallion=" + q(medallion)},
		{name: "  import", path: fmt.Sprintf("/ezpass/transactions?import=%d", importID)},
		{name: "  from/to one day", path: "/ezpass/transactions?from=" + lastAt + "&to=" + lastAt},
		{name: "/ezpass/failures", path: "/ezpass/failures"},
		{name: "/ledger", path: "/ledger", note: "driver balances"},
		{name: "/ (Home)", path: "/"},
		{name: "/ledger/drivers/{id}", path: fmt.Sprintf("/ledger/drivers/%d", driverID), note: "busiest driver"},
		{name: "/fleet/medallions", path: "/fleet/medallions"},
	}
	if env.WebProfile != "" { // each set overwrites it: the large set comes last
		// One profile of every page's requests (the
		// bench's clients are in it too: a small share).
		f, err := os.Create(env.WebProfile)
		if err != nil {
			return webResult{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return webResult{}, err
		}
		defer pprof.StopCPUProfile()
	}
	for i := range pages {
		p := &pages[i]
		if p.note == "" {
			p.note = "page"
		}
		url := srv.URL + p.path
		for range 2 { // warm up
			if _, err := webGet(ctx, client, url); err != nil {
				return webResult{}, fmt.Errorf("%s: %w", p.path, err)
			}
		}
		var single []time.Duration
		tracer.reset()
		for range 15 {
			d, err := webGet(ctx, client, url)
			if err != nil {
				return webResult{}, fmt.Errorf("%s: %w", p.path, err)
			}
			single = append(single, d)
		}
		queries, dbTime := tracer.read()
		p.queries, p.db = float64(queries)/15, dbTime/15
		concurrent, err := webConcurrent(ctx, client, url, 20, 4)
		if err != nil {
			return webResult{}, fmt.Errorf("%s: %w", p.path, err)
		}
		p.median, p.p95 = percentile(single, 50), percentile(concurrent, 95)
		fmt.Fprintf(env.Out, "   %-34s 1 user median %9s   20 clients p95 %9s   %.1f queries, %s in queries per request\n",
			p.name, ms(p.median), ms(p.p95), p.queries, ms(p.db))
	}
	return webResult{tolls: n, pages: pages}, nil
}

// webServer starts the real HTTP server (role web) on pool with the clock
// at now, and returns a client signed in as a viewer.
func webServer(ctx context.Context, pool *pgxpool.Pool, now time.Time) (*httptest.Server, *http.Client, error) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		return nil, nil, err
	}
	m := metrics.New()
	river, err := jobs.NewClient(jobs.Deps{Pool: pool, Logger: log, Metrics: m}, jobs.RoleWeb)
	if err != nil {
		return nil, nil, err
	}
	hashing := auth.Params{Memory: 1024, Time: 1, Threads: 1}
	const password = "bench password 1"
	hash, err := auth.HashPassword(password, hashing)
	if err != nil {
		return nil, nil, err
	}
	email := fmt.Sprintf("viewer-%d@bench.example", time.Now().UnixNano()) // a kept database has earlier ones
	if _, err := store.CreateUser(ctx, pool, email, auth.Viewer, hash); err != nil {
		return nil, nil, err
	}
	srv := httptest.NewServer(web.NewServer(web.Deps{Logger: log, Config: cfg, Pool: pool, River: river,
		Sessions: web.NewSessions(pool, false), Metrics: m, Hashing: hashing, Now: func() time.Time { return now }}))
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Transport: &http.Transport{MaxIdleConnsPerHost: 64},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(srv.URL+"/login", url.Values{"email": {email}, "password": {password}})
	if err != nil {
		srv.Close()
		return nil, nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		srv.Close()
		return nil, nil, fmt.Errorf("sign-in: status %d", resp.StatusCode)
	}
	return srv, client, nil
}

// webGet fetches url whole and returns how long it took; anything but 200
// is an error.
func webGet(ctx context.Context, c *http.Client, url string) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	t := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	took := time.Since(t)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d", resp.StatusCode)
	}
	return took, err
}

// webConcurrent has clients clients fetch url each times times at once.
func webConcurrent(ctx context.Context, c *http.Client, url string, clients, times int) ([]time.Duration, error) {
	var mu sync.Mutex
	var all []time.Duration
	var first error
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for range times {
				d, err := webGet(ctx, c, url)
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				all = append(all, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return all, first
}

// percentile is the p-th percentile (nearest rank) of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (p*len(s)+99)/100 - 1
	return s[max(0, min(i, len(s)-1))]
}
