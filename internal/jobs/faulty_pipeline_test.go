package jobs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/xuri/excelize/v2"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"recondesk/internal/bookings"
	"recondesk/internal/chargecloud"
	"recondesk/internal/chargecloud/chargecloudsim"
	"recondesk/internal/devstack"
	"recondesk/internal/faulty"
	"recondesk/internal/masterfile"
	"recondesk/internal/metrics"
	"recondesk/internal/pgtest"
	"recondesk/internal/store"
)

var oct2026 = faulty.Period{Year: 2026, Month: time.October}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type pipeOpts struct {
	bookings int
	partners int
	chunk    int
	noMongo  bool
	// skipParty leaves these Party IDs unconfigured.
	skipParty string
}

type pipeFix struct {
	db   *pgtest.DB
	sim  *chargecloudsim.Sim
	coll *mongo.Collection
	p    *FaultyPipeline
	logs *syncBuffer
	ds   chargecloudsim.Dataset
}

// startMongo starts an embedded FerretDB and returns its bookings collection.
func startMongo(t *testing.T) *mongo.Collection {
	t.Helper()
	ctx := context.Background()
	uri, stop, err := devstack.StartFerretDB(ctx, devstack.FerretOptions{Dir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client.Database("emsp").Collection(bookings.Collection)
}

// setupPipeline starts a simulator for October 2026, seeds the partners and MongoDB from its
// data set, and returns a pipeline whose clock is 12 November 2026 (tracking window open).
func setupPipeline(t *testing.T, o pipeOpts) *pipeFix {
	t.Helper()
	ctx := context.Background()
	if o.bookings == 0 {
		o.bookings = 200
	}
	if o.partners == 0 {
		o.partners = 3
	}
	f := &pipeFix{db: pgtest.New(t), logs: &syncBuffer{}}
	f.sim = chargecloudsim.New(chargecloudsim.Options{Seed: 7, Partners: o.partners, BookingsPerPeriod: o.bookings,
		Periods: []faulty.Period{oct2026}, Now: func() time.Time { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) }})
	srv := httptest.NewServer(f.sim)
	t.Cleanup(srv.Close)
	f.ds = f.sim.Dataset()
	for _, p := range f.ds.Partners {
		if p.PartyID == o.skipParty {
			continue
		}
		if _, err := store.CreatePartner(ctx, f.db.Pool, store.PartnerInput{PartyID: p.PartyID, Name: p.Name,
			CredentialIDs: p.Credentials, To: []string{"ops@" + strings.ToLower(p.PartyID[3:]) + ".example"}, Active: true}); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	deps := FaultyPipelineDeps{
		ChargeCloud: &chargecloud.Client{BaseURL: srv.URL, Token: f.sim.Token(), HTTP: srv.Client(), Logger: log,
			Retry: chargecloud.Retry{Attempts: 3, Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxRetryAfter: 50 * time.Millisecond}},
		Policy: faulty.DefaultPolicy(time.UTC),
		Chunk:  o.chunk,
		Now:    func() time.Time { return time.Date(2026, 11, 12, 10, 0, 0, 0, time.UTC) },
	}
	if !o.noMongo {
		f.coll = startMongo(t)
		if _, err := bookings.Seed(ctx, f.coll, f.ds.Docs()); err != nil {
			t.Fatal(err)
		}
		deps.Bookings = f.coll
	}
	f.p = &FaultyPipeline{Pool: f.db.Pool, Logger: log, Metrics: metrics.New(), FaultyPipelineDeps: deps}
	return f
}

func (f *pipeFix) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// expected returns the sim's expected reason per stored reference.
func (f *pipeFix) expected() map[string]faulty.Reason {
	out := map[string]faulty.Reason{}
	for _, b := range f.ds.Bookings {
		if b.Fixed {
			continue
		}
		key := strings.TrimSpace(b.Row.AuthorizationReference)
		if n, ok := faulty.NormalizeReference(key); ok {
			key = n
		}
		out[key] = b.Expect
	}
	return out
}

func (f *pipeFix) reasons(t *testing.T) map[string]string {
	t.Helper()
	rows, err := f.db.Pool.Query(context.Background(), `SELECT auth_ref, CASE WHEN confirmed THEN '' ELSE reason END
		FROM faulty_report_rows WHERE period = '2026-10' AND in_latest_report`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for rows.Next() {
		var ref, reason string
		if err := rows.Scan(&ref, &reason); err != nil {
			t.Fatal(err)
		}
		got[ref] = reason
	}
	return got
}

func TestFaultyPipelineEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setupPipeline(t, pipeOpts{bookings: 240, partners: 3})

	res, err := f.p.RunAll(ctx, oct2026, "system:test")
	if err != nil {
		t.Fatalf("RunAll: %v", err)
	}
	ing, val, tr := res[0].Ingest, res[1].Validation, res[2].Tracking
	want := f.expected()
	if ing.Distinct != len(want) || ing.Inserted != len(want) || ing.RowErrors != 0 || ing.HeaderRow != 3 {
		t.Errorf("ingest = %+v; want %d distinct rows inserted, header on row 3", ing, len(want))
	}

	// Every row reaches the outcome the simulator planted, through the whole pipeline.
	got := f.reasons(t)
	confirmed := 0
	byReason := map[faulty.Reason]int{}
	for ref, reason := range want {
		byReason[reason]++
		if reason.Confirmed() {
			confirmed++
		}
		if got[ref] != string(reason) {
			t.Errorf("row %s: reason %q, want %q", ref, got[ref], reason)
		}
	}
	for _, r := range faulty.Reasons {
		if byReason[r] == 0 {
			t.Errorf("the data set has no row with reason %s", r)
		}
	}
	if val.Checked != len(want) || val.Confirmed != confirmed || val.MongoQueries != 1 {
		t.Errorf("validation = %+v; want %d checked, %d confirmed, 1 MongoDB query", val, len(want), confirmed)
	}
	// MongoDB's fault reasons are stored, not the report's text.
	if n := f.count(t, `SELECT count(*) FROM faulty_report_rows WHERE confirmed AND (cardinality(fault_reasons) = 0 OR fault_reasons[1] NOT LIKE '%\_%')`); n != 0 {
		t.Errorf("%d confirmed rows lack MongoDB's fault reasons", n)
	}

	// One batch per partner with confirmed rows, one open item per confirmed booking, version 1 each.
	if tr.Created != confirmed || tr.NewBatches != tr.Batches || tr.MasterFiles != tr.Batches || tr.Batches == 0 {
		t.Errorf("tracking = %+v; want %d items created and a master file per new batch", tr, confirmed)
	}
	if n := f.count(t, `SELECT count(*) FROM faulty_items WHERE state = 'open'`); n != confirmed {
		t.Errorf("open items = %d, want %d", n, confirmed)
	}
	if n := f.count(t, `SELECT count(*) FROM faulty_batches WHERE tracked_at IS NULL`); n != 0 {
		t.Errorf("%d batches not marked tracked", n)
	}
	fp, err := store.FaultyPeriodByID(ctx, f.db.Pool, "2026-10")
	if err != nil || fp.IngestedAt == nil || fp.ValidatedAt == nil || fp.TrackedAt == nil || fp.ReportRows != len(want) {
		t.Fatalf("period = %+v (err %v)", fp, err)
	}
	if n := f.count(t, `SELECT count(*) FROM faulty_runs WHERE status = 'succeeded'`); n != 3 {
		t.Errorf("succeeded runs = %d, want 3", n)
	}

	// The master file holds the batch's bookings; its SHA-256 is stored; versions are immutable.
	batches, _ := store.ListBatches(ctx, f.db.Pool, store.BatchFilter{Period: "2026-10"})
	b := batches[0]
	for _, x := range batches {
		if x.Open > b.Open {
			b = x
		}
	}
	mf, err := store.LatestMasterFile(ctx, f.db.Pool, b.ID)
	if err != nil || mf.Version != 1 {
		t.Fatalf("master file = %+v (err %v)", mf, err)
	}
	_, data, err := store.MasterFileData(ctx, f.db.Pool, mf.ID)
	if err != nil || masterfile.SHA256(data) != mf.SHA256 {
		t.Fatalf("stored sha256 %s does not match the data (err %v)", mf.SHA256, err)
	}
	x, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	xrows, _ := x.GetRows(masterfile.SheetBookings)
	if len(xrows)-1 != b.Open || xrows[1][11] != "Open" {
		t.Errorf("master file has %d bookings (first status %q), want %d open", len(xrows)-1, xrows[1][11], b.Open)
	}
	if _, err := f.db.Pool.Exec(ctx, `UPDATE master_files SET reason = 'x' WHERE id = $1`, mf.ID); err == nil {
		t.Error("UPDATE of a master file version was accepted")
	}
	if _, err := f.db.Pool.Exec(ctx, `DELETE FROM master_files WHERE id = $1`, mf.ID); err == nil {
		t.Error("DELETE of a master file version was accepted")
	}

	// Personal data never reaches the database or the logs.
	var dump string
	if err := f.db.Pool.QueryRow(ctx, `SELECT string_agg(row_to_json(r)::text, ' ') FROM faulty_report_rows r`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	logs := f.logs.String()
	for _, bk := range f.ds.Bookings[:50] {
		for _, v := range []string{bk.Personal.VIN, bk.Personal.UserName, bk.Personal.UserPhone, bk.Personal.VehicleID} {
			if strings.Contains(dump, v) {
				t.Fatalf("personal value %q is stored", v)
			}
			if strings.Contains(logs, v) {
				t.Fatalf("personal value %q is logged", v)
			}
		}
	}
	if !strings.Contains(logs, `"phase":"tracking"`) {
		t.Error("the logs do not record the phases")
	}

	// Re-ingesting changes nothing: same rows, same items, no new master file.
	items, files := f.count(t, `SELECT count(*) FROM faulty_items`), f.count(t, `SELECT count(*) FROM master_files`)
	res2, err := f.p.RunAll(ctx, oct2026, "system:test")
	if err != nil {
		t.Fatal(err)
	}
	if res2[0].Ingest.Inserted != 0 || res2[0].Ingest.Updated != len(want) || res2[0].Ingest.NoLongerInReport != 0 ||
		res2[2].Tracking.Created+res2[2].Tracking.Disappeared+res2[2].Tracking.NoLongerFaulty+res2[2].Tracking.Reopened != 0 {
		t.Errorf("re-ingestion changed something: %+v %+v", res2[0].Ingest, res2[2].Tracking)
	}
	if a, b := f.count(t, `SELECT count(*) FROM faulty_items`), f.count(t, `SELECT count(*) FROM master_files`); a != items || b != files {
		t.Errorf("after re-ingestion: %d items (was %d), %d master files (was %d)", a, items, b, files)
	}
	if fp2, _ := store.FaultyPeriodByID(ctx, f.db.Pool, "2026-10"); !fp2.IngestedAt.Equal(*fp.IngestedAt) {
		t.Error("re-ingestion moved the first completion time of ingestion")
	}

	// The partner fixes two bookings upstream: they leave the report → resolved "disappeared".
	var open []store.FaultyItem
	open, _ = store.ListBatchItems(ctx, f.db.Pool, store.ItemFilter{BatchID: b.ID, State: "open"})
	fixed := []string{open[0].AuthRef, open[1].AuthRef}
	f.sim.FixBookings(fixed...)
	res3, err := f.p.RunAll(ctx, oct2026, "system:test")
	if err != nil {
		t.Fatal(err)
	}
	if res3[0].Ingest.NoLongerInReport != 2 || res3[2].Tracking.Disappeared != 2 || res3[2].Tracking.MasterFiles != 1 {
		t.Errorf("after the fix: ingest %+v, tracking %+v; want 2 gone, 2 disappeared, 1 new master file", res3[0].Ingest, res3[2].Tracking)
	}
	if n := f.count(t, `SELECT count(*) FROM faulty_items WHERE resolution = 'disappeared' AND auth_ref = ANY($1)`, fixed); n != 2 {
		t.Errorf("disappeared items = %d, want 2", n)
	}
	if mf2, _ := store.LatestMasterFile(ctx, f.db.Pool, b.ID); mf2.Version != 2 {
		t.Errorf("master file version = %d, want 2", mf2.Version)
	}

	// MongoDB says a booking is paid → re-validation resolves it "no_longer_faulty".
	ref := open[2].AuthRef
	setPayment(t, f.coll, ref, "paid")
	toCheck := f.count(t, `SELECT count(*) FROM faulty_items WHERE state = 'open'`) +
		f.count(t, `SELECT count(*) FROM faulty_report_rows WHERE reason = 'UNKNOWN_PARTNER'`)
	r4, err := f.p.Run(ctx, oct2026, PhaseRevalidation, "system:test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r4.Validation.Checked != toCheck ||
		r4.Tracking == nil || r4.Tracking.NoLongerFaulty != 1 {
		t.Errorf("revalidation = %+v / %+v; want the open items and unknown rows checked, 1 no longer faulty", r4.Validation, r4.Tracking)
	}
	// … and when it is faulty again, the daily re-validation reopens it, history kept.
	setPayment(t, f.coll, ref, faulty.PaymentActionRequired)
	r6, err := f.p.Run(ctx, oct2026, PhaseRevalidation, "system:test", nil)
	if err != nil {
		t.Fatal(err)
	}
	var state string
	var reopened int
	if err := f.db.Pool.QueryRow(ctx, `SELECT state, reopened FROM faulty_items WHERE auth_ref = $1`, ref).Scan(&state, &reopened); err != nil {
		t.Fatal(err)
	}
	if state != "open" || reopened != 1 || r6.Tracking.Reopened != 1 {
		t.Errorf("item after reappearing: %s, reopened %d, tracking %+v; want open, reopened once", state, reopened, r6.Tracking)
	}
	evs, _ := store.ListItemEvents(ctx, f.db.Pool, b.ID, open[2].ID, 10)
	var hows []string
	for _, e := range evs {
		hows = append(hows, e.How)
	}
	if strings.Join(hows, ",") != "reopened,no_longer_faulty,created" {
		t.Errorf("item history = %v", hows)
	}
	// Disappeared items stay resolved while their booking is absent.
	if n := f.count(t, `SELECT count(*) FROM faulty_items WHERE auth_ref = ANY($1) AND state = 'resolved'`, fixed); n != 2 {
		t.Errorf("fixed items resolved = %d, want 2", n)
	}
	if n := f.count(t, `SELECT count(*) FROM audit_events WHERE action = 'faulty_batch.track' AND subject_id = $1`, b.ID); n < 4 {
		t.Errorf("batch audit events = %d, want one per change", n)
	}
}

func setPayment(t *testing.T, coll *mongo.Collection, ref, status string) {
	t.Helper()
	id, _ := primitive.ObjectIDFromHex(ref)
	if _, err := coll.UpdateOne(context.Background(), bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "payment_status", Value: status}}}}); err != nil {
		t.Fatal(err)
	}
}

// TestIngestFaults runs ingestion against every fault the simulator injects.
func TestIngestFaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		fault     func(s *chargecloudsim.Sim)
		token     string
		wantErr   string
		permanent bool
		check     func(t *testing.T, f *pipeFix, c *IngestCounts)
	}{
		{name: "rejected token", token: "wrong", wantErr: chargecloud.ReasonTokenRejected, permanent: true},
		{name: "403", fault: func(s *chargecloudsim.Sim) { s.FailNext(-1, http.StatusForbidden, "") }, wantErr: chargecloud.ReasonTokenRejected, permanent: true},
		{name: "500 every time", fault: func(s *chargecloudsim.Sim) { s.FailNext(-1, http.StatusInternalServerError, "") }, wantErr: "500",
			check: func(t *testing.T, f *pipeFix, _ *IngestCounts) {
				var body []byte
				if err := f.db.Pool.QueryRow(context.Background(), `SELECT failing_body FROM faulty_runs`).Scan(&body); err != nil || len(body) == 0 {
					t.Errorf("failing body not kept (%v)", err)
				}
			}},
		{name: "500 then ok", fault: func(s *chargecloudsim.Sim) { s.FailNext(2, http.StatusInternalServerError, "") },
			check: func(t *testing.T, f *pipeFix, c *IngestCounts) {
				if c.Attempts != 3 {
					t.Errorf("attempts = %d, want 3", c.Attempts)
				}
			}},
		{name: "429 with Retry-After", fault: func(s *chargecloudsim.Sim) { s.FailNext(1, http.StatusTooManyRequests, "0") }},
		{name: "truncated once", fault: func(s *chargecloudsim.Sim) { s.TruncateNext(1) }},
		{name: "truncated always", fault: func(s *chargecloudsim.Sim) { s.TruncateNext(10) }, wantErr: "truncated",
			check: func(t *testing.T, f *pipeFix, _ *IngestCounts) {
				var body []byte
				_ = f.db.Pool.QueryRow(context.Background(), `SELECT failing_body FROM faulty_runs`).Scan(&body)
				if bytes.HasPrefix(body, []byte("PK")) {
					t.Error("part of the workbook (personal data) was kept as the failing body")
				}
			}},
		{name: "header on row 6", fault: func(s *chargecloudsim.Sim) { s.SetHeaderRow(6) },
			check: func(t *testing.T, f *pipeFix, c *IngestCounts) {
				if c.HeaderRow != 6 {
					t.Errorf("header row = %d, want 6", c.HeaderRow)
				}
			}},
		{name: "extra columns", fault: func(s *chargecloudsim.Sim) { s.SetExtraColumns(true) },
			check: func(t *testing.T, f *pipeFix, c *IngestCounts) {
				if len(c.Ignored) != 3 {
					t.Errorf("ignored columns = %v, want 3", c.Ignored)
				}
			}},
		{name: "missing column", fault: func(s *chargecloudsim.Sim) { s.SetMissingColumns(faulty.ColCDRID) }, wantErr: "CDR ID", permanent: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setupPipeline(t, pipeOpts{bookings: 30, partners: 2, noMongo: true})
			if tc.token != "" {
				f.p.ChargeCloud.Token = tc.token
			}
			if tc.fault != nil {
				tc.fault(f.sim)
			}
			res, err := f.p.Run(context.Background(), oct2026, PhaseIngestion, "system:test", nil)
			var status, msg string
			if qerr := f.db.Pool.QueryRow(context.Background(), `SELECT status, message FROM faulty_runs WHERE id = $1`, res.RunID).Scan(&status, &msg); qerr != nil {
				t.Fatal(qerr)
			}
			if tc.wantErr == "" {
				if err != nil || status != store.RunSucceeded {
					t.Fatalf("ingestion failed: %v (run %s %q)", err, status, msg)
				}
				if n := f.count(t, `SELECT count(*) FROM faulty_report_rows`); n != res.Ingest.Distinct || n < 25 {
					t.Errorf("stored %d rows, ingest counts %+v", n, res.Ingest)
				}
			} else {
				var pe *PhaseError
				if !errors.As(err, &pe) || pe.Permanent != tc.permanent || !strings.Contains(msg, tc.wantErr) || status != store.RunFailed {
					t.Fatalf("err = %v (permanent %v), run %s %q; want failed with %q, permanent %v", err, pe != nil && pe.Permanent, status, msg, tc.wantErr, tc.permanent)
				}
				if n := f.count(t, `SELECT count(*) FROM faulty_report_rows`); n != 0 {
					t.Errorf("a failed ingestion stored %d rows", n)
				}
				if fp, _ := store.FaultyPeriodByID(context.Background(), f.db.Pool, "2026-10"); fp.IngestedAt != nil {
					t.Error("a failed ingestion marked the period ingested")
				}
			}
			if tc.check != nil {
				tc.check(t, f, res.Ingest)
			}
		})
	}
}

// TestPhaseWorkerCancelsPermanentFailures: a rejected token is not retried by River.
func TestPhaseWorkerCancelsPermanentFailures(t *testing.T) {
	t.Parallel()
	f := setupPipeline(t, pipeOpts{bookings: 20, partners: 2, noMongo: true})
	f.p.ChargeCloud.Token = "wrong"
	w := &FaultyPhaseWorker{Pipeline: f.p}
	err := w.Work(context.Background(), &river.Job[FaultyPhaseArgs]{JobRow: &rivertype.JobRow{ID: 1}, Args: FaultyPhaseArgs{Period: "2026-10", Phase: PhaseIngestion}})
	var cancel *rivertype.JobCancelError
	if !errors.As(err, &cancel) {
		t.Fatalf("Work = %v; want a JobCancel error", err)
	}
	if f.sim.Requests() != 1 {
		t.Errorf("the simulator got %d requests; a rejected token must not be retried", f.sim.Requests())
	}
	// A validation before any ingestion is refused the same way.
	err = w.Work(context.Background(), &river.Job[FaultyPhaseArgs]{JobRow: &rivertype.JobRow{ID: 2}, Args: FaultyPhaseArgs{Period: "2026-10", Phase: PhaseValidation}})
	if !errors.As(err, &cancel) || !strings.Contains(err.Error(), "ingestion") {
		t.Fatalf("validation before ingestion = %v; want cancelled naming ingestion", err)
	}
}

// TestValidationChunksAndUnknownPartner: more than 1000 references are looked up in chunks;
// after the unknown partner is added, re-validation moves its rows into a new batch.
func TestValidationChunksAndUnknownPartner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setupPipeline(t, pipeOpts{bookings: 1300, partners: 2, chunk: 500})
	res, err := f.p.RunAll(ctx, oct2026, "system:test")
	if err != nil {
		t.Fatal(err)
	}
	v := res[1].Validation
	known := v.Checked - v.ByReason[string(faulty.ReasonUnknownPartner)] - v.ByReason[string(faulty.ReasonInvalidReference)]
	wantQueries := (known + 499) / 500
	if known <= 1000 || v.MongoQueries != wantQueries || v.Chunk != 500 {
		t.Fatalf("validation = %+v; want %d queries for %d references", v, wantQueries, known)
	}
	unknown := v.ByReason[string(faulty.ReasonUnknownPartner)]
	if unknown == 0 {
		t.Fatal("no UNKNOWN_PARTNER rows in the data set")
	}

	// Add the unknown partners with the credentials their bookings carry.
	creds := map[string][]string{}
	for _, b := range f.ds.Bookings {
		if b.Expect == faulty.ReasonUnknownPartner && b.Doc != nil {
			creds[b.Row.PartyID] = append(creds[b.Row.PartyID], b.Doc.Credential)
		}
	}
	for party, cs := range creds {
		if _, err := store.CreatePartner(ctx, f.db.Pool, store.PartnerInput{PartyID: party, Name: "Added " + party, CredentialIDs: cs, To: []string{"x@example.com"}, Active: true}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := f.p.Run(ctx, oct2026, PhaseRevalidation, "system:test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := f.count(t, `SELECT count(*) FROM faulty_report_rows WHERE reason = 'UNKNOWN_PARTNER'`); n != 0 {
		t.Errorf("%d rows still UNKNOWN_PARTNER after adding the partners", n)
	}
	if r.Tracking == nil || r.Tracking.NewBatches != len(creds) || r.Tracking.Created != unknown {
		t.Errorf("revalidation tracking = %+v; want %d new batches with %d items", r.Tracking, len(creds), unknown)
	}
}

// TestSchedulePhases enqueues each due phase once per day, however often it runs.
func TestSchedulePhases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	client, err := NewClient(Deps{Pool: db.Pool, Logger: slog.New(slog.DiscardHandler), Metrics: metrics.New()}, RoleWeb)
	if err != nil {
		t.Fatal(err)
	}
	mc, err := mongo.Connect(ctx, options.Client().ApplyURI("mongodb://127.0.0.1:1")) // never dialled
	if err != nil {
		t.Fatal(err)
	}
	policy := FaultyPipelineDeps{Policy: faulty.DefaultPolicy(time.UTC), ChargeCloud: &chargecloud.Client{},
		Bookings: mc.Database("emsp").Collection(bookings.Collection)}
	// Nothing is scheduled while ChargeCloud and MongoDB are not configured.
	if n, err := SchedulePhases(ctx, db.Pool, client, FaultyPipelineDeps{Policy: policy.Policy}, time.Date(2026, 11, 3, 6, 0, 0, 0, time.UTC)); err != nil || n != 0 {
		t.Fatalf("unconfigured SchedulePhases = %d, %v; want nothing", n, err)
	}
	countJobs := func(phase string) int {
		var n int
		_ = db.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'faulty.phase' AND args->>'phase' = $1`, phase).Scan(&n)
		return n
	}
	// 3 November: October's ingestion window is open; November's is not.
	now := time.Date(2026, 11, 3, 6, 0, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		n, err := SchedulePhases(ctx, db.Pool, client, policy, now)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[int]int{0: 1}[i]; n != want {
			t.Errorf("run %d enqueued %d jobs, want %d", i, n, want)
		}
	}
	if countJobs(PhaseIngestion) != 1 {
		t.Errorf("ingestion jobs = %d, want 1", countJobs(PhaseIngestion))
	}
	var args FaultyPhaseArgs
	if err := db.Pool.QueryRow(ctx, `SELECT args->>'period', args->>'trigger' FROM river_job WHERE kind = 'faulty.phase'`).Scan(&args.Period, &args.Trigger); err != nil || args.Period != "2026-10" || args.Trigger != TriggerSchedule {
		t.Errorf("job args = %+v (err %v)", args, err)
	}
	// Ingestion done: validation is not due before the 6th.
	if err := store.EnsureFaultyPeriod(ctx, db.Pool, "2026-10"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE faulty_periods SET ingested_at = '2026-11-03T07:00:00Z'`); err != nil {
		t.Fatal(err)
	}
	if n, _ := SchedulePhases(ctx, db.Pool, client, policy, now.Add(2*time.Hour)); n != 0 {
		t.Errorf("enqueued %d jobs before the validation window", n)
	}
	if n, _ := SchedulePhases(ctx, db.Pool, client, policy, time.Date(2026, 11, 6, 0, 30, 0, 0, time.UTC)); n != 1 || countJobs(PhaseValidation) != 1 {
		t.Errorf("on the 6th: enqueued %d, validation jobs %d; want 1", n, countJobs(PhaseValidation))
	}
}

// TestResolveItems resolves chosen items, then the rest, with events, audit and resolved_at.
func TestResolveItems(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setupPipeline(t, pipeOpts{bookings: 60, partners: 1})
	if _, err := f.p.RunAll(ctx, oct2026, "system:test"); err != nil {
		t.Fatal(err)
	}
	batches, _ := store.ListBatches(ctx, f.db.Pool, store.BatchFilter{})
	if len(batches) != 1 {
		t.Fatalf("batches = %d", len(batches))
	}
	b := batches[0]
	items, _ := store.ListBatchItems(ctx, f.db.Pool, store.ItemFilter{BatchID: b.ID})
	var n int
	err := store.InTx(ctx, f.db.Pool, func(tx pgx.Tx) error {
		_, err := store.ResolveItems(ctx, tx, b.ID, []int64{items[0].ID}, store.ResolvedManual, "", "user:1")
		return err
	})
	if err == nil {
		t.Fatal("a manual resolution without a note was accepted")
	}
	err = store.InTx(ctx, f.db.Pool, func(tx pgx.Tx) (err error) {
		n, err = store.ResolveItems(ctx, tx, b.ID, []int64{items[0].ID, items[1].ID}, store.ResolvedManual, "Paid by bank transfer", "user:1")
		return err
	})
	if err != nil || n != 2 {
		t.Fatalf("ResolveItems = %d, %v", n, err)
	}
	err = store.InTx(ctx, f.db.Pool, func(tx pgx.Tx) (err error) {
		n, err = store.ResolveItems(ctx, tx, b.ID, nil, store.ResolvedManual, "Settled", "user:1")
		return err
	})
	if err != nil || n != len(items)-2 {
		t.Fatalf("resolve the rest = %d, %v; want %d", n, err, len(items)-2)
	}
	got, _ := store.BatchByID(ctx, f.db.Pool, b.ID)
	if got.Open != 0 || got.ResolvedAt == nil {
		t.Errorf("batch = %+v; want nothing open and resolved_at set", got)
	}
	if c := f.count(t, `SELECT count(*) FROM audit_events WHERE action = 'faulty_batch.resolve_items'`); c != 2 {
		t.Errorf("audit events = %d, want 2", c)
	}
	// A manual resolution is sticky: tracking does not reopen it.
	r, err := f.p.Run(ctx, oct2026, PhaseTracking, "system:test", nil)
	if err != nil || r.Tracking.Reopened != 0 {
		t.Errorf("tracking after manual resolution = %+v, %v", r.Tracking, err)
	}
}
