package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.mongodb.org/mongo-driver/mongo"

	"recondesk/internal/apperror"
	"recondesk/internal/bookings"
	"recondesk/internal/chargecloud"
	"recondesk/internal/faulty"
	"recondesk/internal/masterfile"
	"recondesk/internal/metrics"
	"recondesk/internal/store"
)

// The phases a FaultyPhaseArgs job runs (faulty_runs.phase).
const (
	PhaseIngestion    = string(faulty.PhaseIngestion)
	PhaseValidation   = string(faulty.PhaseValidation)
	PhaseTracking     = string(faulty.PhaseTracking)
	PhaseRevalidation = "revalidation"
)

// PipelinePhases lists the phases staff can run now, in order.
var PipelinePhases = []string{PhaseIngestion, PhaseValidation, PhaseTracking, PhaseRevalidation}

// Triggers of a FaultyPhaseArgs job.
const (
	TriggerSchedule = "schedule" // the hourly scheduler (at most one job per phase and day)
	TriggerManual   = "manual"   // a "Run now" or "Re-validate" button, the API
	TriggerChain    = "chain"    // the previous phase finished
)

// FaultyPipelineDeps are what ingestion, validation and tracking need.
type FaultyPipelineDeps struct {
	// Bookings is MongoDB's chargerbookings collection; nil makes validation fail with a clear reason.
	Bookings *mongo.Collection
	// ChargeCloud fetches the reports; nil makes ingestion fail with a clear reason.
	ChargeCloud *chargecloud.Client
	// Policy holds the phase windows and the EMSP time zone (Policy.Location).
	Policy faulty.Policy
	// Chunk is how many ids one MongoDB $in query carries (MONGODB_CHUNK); <= 0 means 1000.
	Chunk int
	// TempDir is where large worksheet parts are unzipped ("" means the system default).
	TempDir string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// PhaseInsertOpts are the insert options for a phase job by trigger: a scheduled job is unique
// per period, phase and day (a failed phase is retried the next day); a manual or chained one is
// unique while it waits or runs, so a double click enqueues it once.
func PhaseInsertOpts(trigger string) *river.InsertOpts {
	if trigger == TriggerSchedule {
		return &river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: 24 * time.Hour,
			ByState: append(rivertype.UniqueOptsByStateDefault(), rivertype.JobStateDiscarded, rivertype.JobStateCancelled)}}
	}
	return &river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled}}}
}

// FaultyPipeline runs the period-level phases. The phase worker, `recondesk faulty ingest` and
// the benchmark share it.
type FaultyPipeline struct {
	Pool    *pgxpool.Pool
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	FaultyPipelineDeps
}

// NewFaultyPipeline returns the pipeline for the workers' dependencies.
func NewFaultyPipeline(d Deps) *FaultyPipeline {
	return &FaultyPipeline{Pool: d.Pool, Logger: d.Logger, Metrics: d.Metrics, FaultyPipelineDeps: d.Faulty.Pipeline}
}

func (p *FaultyPipeline) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *FaultyPipeline) log() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return p.Logger
}

// IngestCounts is what an ingestion did.
type IngestCounts struct {
	store.ReportUpsert
	Bytes     int `json:"bytes"`
	Attempts  int `json:"attempts"`
	HeaderRow int `json:"header_row"`
	// Ignored are the report's columns outside the contract.
	Ignored []string `json:"ignored_columns,omitempty"`
	// RowErrors counts rows skipped for a bad value; Errors holds the first few.
	RowErrors int        `json:"row_errors"`
	Errors    []RowIssue `json:"errors,omitempty"`
}

// RowIssue is one unreadable report row (never personal data: personal columns are not read).
type RowIssue struct {
	Row     int    `json:"row"`
	Column  string `json:"column"`
	Message string `json:"message"`
}

// ValidationCounts is what a validation did.
type ValidationCounts struct {
	Checked   int            `json:"checked"`
	Confirmed int            `json:"confirmed"`
	ByReason  map[string]int `json:"by_reason"`
	// Mongo* measure the bulk look-up apart from the rest.
	MongoQueries    int   `json:"mongo_queries"`
	MongoRoundTrips int   `json:"mongo_round_trips"`
	MongoMillis     int64 `json:"mongo_ms"`
	MongoFound      int   `json:"mongo_found"`
	Chunk           int   `json:"chunk"`
}

// TrackCounts is what a tracking did.
type TrackCounts struct {
	store.TrackResult
	MasterFiles int `json:"master_files"`
}

// PhaseResult is the outcome of one phase run.
type PhaseResult struct {
	Period     string            `json:"period"`
	Phase      string            `json:"phase"`
	RunID      int64             `json:"run_id"`
	Millis     int64             `json:"ms"`
	Ingest     *IngestCounts     `json:"ingest,omitempty"`
	Validation *ValidationCounts `json:"validation,omitempty"`
	Tracking   *TrackCounts      `json:"tracking,omitempty"`
}

// PhaseError is a failed phase; Permanent ones are not retried by River.
type PhaseError struct {
	Permanent bool
	Reason    string
	Err       error
}

func (e *PhaseError) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

// Unwrap returns the cause.
func (e *PhaseError) Unwrap() error { return e.Err }

// Enqueuer inserts follow-up jobs in a transaction (a River client; nil means none).
type Enqueuer interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// lockPeriod serialises the writes of one period's phases.
func lockPeriod(ctx context.Context, tx pgx.Tx, period string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(4004, hashtext($1))`, period)
	return err
}

// Run runs one phase of a period now, recording a faulty_runs row (running → succeeded or
// failed with the reason) and an audit event. When next is set and the following phase has
// already completed once or its window has opened, it is enqueued in the same transaction.
func (p *FaultyPipeline) Run(ctx context.Context, period faulty.Period, phase, actor string, next Enqueuer) (PhaseResult, error) {
	res := PhaseResult{Period: period.String(), Phase: phase}
	switch phase {
	case PhaseIngestion, PhaseValidation, PhaseTracking, PhaseRevalidation:
	default:
		return res, &PhaseError{Permanent: true, Reason: fmt.Sprintf("unknown phase %q: use ingestion, validation, tracking or revalidation", phase)}
	}
	began := time.Now()
	runID, err := store.StartFaultyRun(ctx, p.Pool, period.String(), faulty.Phase(phase), actor)
	if err != nil {
		return res, err
	}
	res.RunID = runID
	var body []byte
	switch phase {
	case PhaseIngestion:
		res.Ingest, body, err = p.ingest(ctx, period, runID, actor, next)
	case PhaseValidation:
		res.Validation, err = p.validate(ctx, period, runID, actor, store.ScopeAll, next)
	case PhaseTracking:
		res.Tracking, err = p.track(ctx, period, runID, actor)
	case PhaseRevalidation:
		res.Validation, res.Tracking, err = p.revalidate(ctx, period, runID, actor)
	}
	res.Millis = time.Since(began).Milliseconds()
	outcome := "succeeded"
	if err != nil {
		outcome = "failed"
		msg := err.Error()
		var pe *PhaseError
		if errors.As(err, &pe) {
			msg = pe.Reason
		}
		// The run row is written apart from the failed transaction.
		if ferr := store.FinishFaultyRun(context.WithoutCancel(ctx), p.Pool, runID, store.RunFailed, msg, res, body); ferr != nil {
			p.log().Error("faulty run: record failure", "period", res.Period, "phase", phase, "err", ferr.Error())
		}
		p.log().Warn("faulty phase failed", "period", res.Period, "phase", phase, "run_id", runID, "reason", msg)
	} else {
		p.log().Info("faulty phase done", "period", res.Period, "phase", phase, "run_id", runID, "ms", res.Millis)
	}
	if p.Metrics != nil {
		p.Metrics.Events.WithLabelValues("faulty."+phase, outcome).Inc()
	}
	return res, err
}

// succeed records the run's success, the phase's completion and an audit event in tx, and
// enqueues the next phase when it is due.
func (p *FaultyPipeline) succeed(ctx context.Context, tx pgx.Tx, period faulty.Period, phase string, runID int64, actor string, counts any, next Enqueuer) error {
	if phase != PhaseRevalidation {
		if _, err := store.MarkFaultyPhaseDone(ctx, tx, period.String(), faulty.Phase(phase)); err != nil {
			return err
		}
	}
	if err := store.FinishFaultyRun(ctx, tx, runID, store.RunSucceeded, "", counts, nil); err != nil {
		return err
	}
	if err := store.Audit(ctx, tx, actor, "faulty_period."+phase, "faulty_period", period.String(), nil, counts, ""); err != nil {
		return err
	}
	if next == nil {
		return nil
	}
	following := map[string]string{PhaseIngestion: PhaseValidation, PhaseValidation: PhaseTracking}[phase]
	if following == "" {
		return nil
	}
	fp, err := store.FaultyPeriodByID(ctx, tx, period.String())
	if err != nil {
		return err
	}
	_, doneBefore := fp.Facts().Completed[faulty.Phase(following)]
	w, _ := p.Policy.Window(faulty.Phase(following))
	if doneBefore || !p.now().Before(p.Policy.DayStart(period, w.First)) {
		_, err = next.InsertTx(ctx, tx, FaultyPhaseArgs{Period: period.String(), Phase: following, Trigger: TriggerChain}, PhaseInsertOpts(TriggerChain))
	}
	return err
}

// ingest fetches the report, streams it into the period's rows and marks absent rows.
func (p *FaultyPipeline) ingest(ctx context.Context, period faulty.Period, runID int64, actor string, next Enqueuer) (*IngestCounts, []byte, error) {
	c := &IngestCounts{}
	if p.ChargeCloud == nil {
		return c, nil, &PhaseError{Permanent: true, Reason: "ChargeCloud is not configured: set CHARGECLOUD_URL and CHARGECLOUD_TOKEN"}
	}
	rep, err := p.ChargeCloud.FetchPeriod(ctx, period, p.Policy.Location)
	if err != nil {
		var ce *chargecloud.Error
		if errors.As(err, &ce) {
			c.Attempts = ce.Attempts
			return c, keptBody(ce.Body), &PhaseError{Permanent: ce.Permanent, Reason: ce.Error(), Err: ce.Err}
		}
		return c, nil, &PhaseError{Reason: "fetching the ChargeCloud report failed", Err: err}
	}
	c.Bytes, c.Attempts = len(rep.Body), rep.Attempts
	rr, err := faulty.ReadReport(bytes.NewReader(rep.Body), int64(len(rep.Body)), faulty.ReportOptions{Location: p.Policy.Location, TempDir: p.TempDir})
	if err != nil {
		var he *faulty.HeaderError
		if errors.As(err, &he) {
			// The report's layout is wrong: retrying within minutes cannot help; the scheduler tries again tomorrow.
			return c, keptBody(rep.Body), &PhaseError{Permanent: true, Reason: "The ChargeCloud report cannot be read: " + he.Error()}
		}
		return c, keptBody(rep.Body), &PhaseError{Reason: "The ChargeCloud report is not a readable .xlsx workbook", Err: err}
	}
	defer rr.Close()
	c.HeaderRow, c.Ignored = rr.HeaderRow(), rr.Ignored()
	source := func() (faulty.ReportRow, error) {
		for {
			row, err := rr.Next()
			var re *faulty.RowError
			if errors.As(err, &re) {
				c.RowErrors++
				if len(c.Errors) < 20 {
					c.Errors = append(c.Errors, RowIssue{Row: re.Row, Column: re.Column, Message: re.Err.Error()})
				}
				continue
			}
			return row, err
		}
	}
	err = store.InTx(ctx, p.Pool, func(tx pgx.Tx) error {
		if err := lockPeriod(ctx, tx, period.String()); err != nil {
			return err
		}
		// A skipped row may be a booking still in the report: absent rows are only marked when
		// every row was read.
		up, err := store.UpsertReportRows(ctx, tx, period.String(), source, func() bool { return c.RowErrors == 0 })
		if err != nil {
			return err
		}
		c.ReportUpsert = up
		return p.succeed(ctx, tx, period, PhaseIngestion, runID, actor, c, next)
	})
	if err != nil {
		return c, nil, &PhaseError{Reason: "Storing the report failed", Err: err}
	}
	if p.Metrics != nil {
		p.Metrics.Events.WithLabelValues("faulty.ingest.rows", "stored").Add(float64(c.Distinct))
		p.Metrics.Events.WithLabelValues("faulty.ingest.rows", "error").Add(float64(c.RowErrors))
	}
	return c, nil, nil
}

// keptBody is what a failed run keeps of a response body for diagnosis: an error page, capped;
// never (part of) a workbook, which holds the report's personal data.
func keptBody(b []byte) []byte {
	if bytes.HasPrefix(b, []byte("PK")) {
		return []byte("(the body was an .xlsx workbook or part of one; it is not kept because it holds personal data)")
	}
	if len(b) > store.RunBodyCap {
		return b[:store.RunBodyCap]
	}
	return b
}

// requireDone fails a phase whose predecessor never completed.
func requireDone(ctx context.Context, db store.DBTX, period faulty.Period, before faulty.Phase, what string) error {
	fp, err := store.FaultyPeriodByID(ctx, db, period.String())
	if err != nil && apperror.CodeOf(err) != apperror.NotFound {
		return err
	}
	if _, ok := fp.Facts().Completed[before]; !ok {
		return &PhaseError{Permanent: true, Reason: fmt.Sprintf("%s of %s needs the %s phase to have completed first", what, period, before)}
	}
	return nil
}

// validateRows applies the predicate to the scope's rows with one bulk MongoDB look-up and
// writes the outcomes set-based in tx.
func (p *FaultyPipeline) validateRows(ctx context.Context, period faulty.Period, scope store.ValidationScope) (*ValidationCounts, []store.Validated, error) {
	c := &ValidationCounts{ByReason: map[string]int{}, Chunk: p.Chunk}
	if c.Chunk <= 0 {
		c.Chunk = bookings.DefaultChunk
	}
	if p.Bookings == nil {
		return c, nil, &PhaseError{Permanent: true, Reason: "MongoDB is not configured: set MONGODB_URI"}
	}
	rows, err := store.RowsToValidate(ctx, p.Pool, period.String(), scope)
	if err != nil {
		return c, nil, err
	}
	partners, err := store.ListPartners(ctx, p.Pool)
	if err != nil {
		return c, nil, err
	}
	byParty := make(map[string]store.Partner, len(partners))
	for _, pt := range partners {
		byParty[pt.PartyID] = pt
	}
	refs := make([]string, 0, len(rows))
	for _, r := range rows {
		if _, ok := byParty[r.PartyID]; ok {
			refs = append(refs, r.AuthRef)
		}
	}
	found, st, err := bookings.Lookup(ctx, p.Bookings, refs, c.Chunk)
	c.MongoQueries, c.MongoRoundTrips, c.MongoMillis, c.MongoFound = st.Queries, st.RoundTrips, st.Duration.Milliseconds(), st.Found
	if err != nil {
		return c, nil, &PhaseError{Reason: "MongoDB look-up failed (is MongoDB reachable?)", Err: err}
	}
	results := make([]store.Validated, len(rows))
	for i, r := range rows {
		v := store.Validated{RowID: r.ID}
		pt, ok := byParty[r.PartyID]
		if !ok {
			v.Reason = faulty.ReasonUnknownPartner
		} else {
			v.PartnerID = pt.ID
			var doc *faulty.Booking
			if n, valid := faulty.NormalizeReference(r.AuthRef); valid {
				if b, hit := found[n]; hit {
					doc = &b
					v.FaultReasons = b.FaultReasons
				}
			}
			v.Reason = faulty.Check(r.AuthRef, doc, pt.CredentialIDs)
		}
		if v.Reason.Confirmed() {
			c.Confirmed++
		} else {
			c.ByReason[string(v.Reason)]++
		}
		results[i] = v
	}
	c.Checked = len(rows)
	return c, results, nil
}

// validate checks every row of the latest report (or the scope's rows) against MongoDB.
func (p *FaultyPipeline) validate(ctx context.Context, period faulty.Period, runID int64, actor string, scope store.ValidationScope, next Enqueuer) (*ValidationCounts, error) {
	if err := requireDone(ctx, p.Pool, period, faulty.PhaseIngestion, "Validation"); err != nil {
		return nil, err
	}
	c, results, err := p.validateRows(ctx, period, scope)
	if err != nil {
		return c, err
	}
	err = store.InTx(ctx, p.Pool, func(tx pgx.Tx) error {
		if err := lockPeriod(ctx, tx, period.String()); err != nil {
			return err
		}
		if _, err := store.ApplyValidation(ctx, tx, results); err != nil {
			return err
		}
		return p.succeed(ctx, tx, period, PhaseValidation, runID, actor, c, next)
	})
	if err != nil {
		return c, &PhaseError{Reason: "Storing the validation failed", Err: err}
	}
	return c, nil
}

// track applies the item rules and writes master files for the batches that changed.
func (p *FaultyPipeline) track(ctx context.Context, period faulty.Period, runID int64, actor string) (*TrackCounts, error) {
	if err := requireDone(ctx, p.Pool, period, faulty.PhaseValidation, "Tracking"); err != nil {
		return nil, err
	}
	c := &TrackCounts{}
	err := store.InTx(ctx, p.Pool, func(tx pgx.Tx) error {
		if err := lockPeriod(ctx, tx, period.String()); err != nil {
			return err
		}
		var err error
		if err = p.trackTx(ctx, tx, period, actor, c); err != nil {
			return err
		}
		return p.succeed(ctx, tx, period, PhaseTracking, runID, actor, c, nil)
	})
	if err != nil {
		return c, &PhaseError{Reason: "Tracking failed", Err: err}
	}
	return c, nil
}

func (p *FaultyPipeline) trackTx(ctx context.Context, tx pgx.Tx, period faulty.Period, actor string, c *TrackCounts) error {
	tr, err := store.TrackPeriod(ctx, tx, period.String(), actor)
	if err != nil {
		return err
	}
	c.TrackResult = tr
	changed := tr.ChangedBatches()
	if len(changed) == 0 {
		return nil
	}
	files, err := WriteMasterFiles(ctx, tx, changed, "tracking", p.Policy.Location, p.now())
	if err != nil {
		return err
	}
	c.MasterFiles = len(files)
	return store.MarkBatchesTracked(ctx, tx, changed)
}

// revalidate re-checks the open items and UNKNOWN_PARTNER rows against MongoDB and, once the
// period has been tracked, applies the item rules (resolving, reopening, new batches).
func (p *FaultyPipeline) revalidate(ctx context.Context, period faulty.Period, runID int64, actor string) (*ValidationCounts, *TrackCounts, error) {
	if err := requireDone(ctx, p.Pool, period, faulty.PhaseValidation, "Re-validation"); err != nil {
		return nil, nil, err
	}
	vc, results, err := p.validateRows(ctx, period, store.ScopeRevalidation)
	if err != nil {
		return vc, nil, err
	}
	var tc *TrackCounts
	err = store.InTx(ctx, p.Pool, func(tx pgx.Tx) error {
		if err := lockPeriod(ctx, tx, period.String()); err != nil {
			return err
		}
		if _, err := store.ApplyValidation(ctx, tx, results); err != nil {
			return err
		}
		fp, err := store.FaultyPeriodByID(ctx, tx, period.String())
		if err != nil {
			return err
		}
		if fp.TrackedAt != nil {
			tc = &TrackCounts{}
			if err := p.trackTx(ctx, tx, period, actor, tc); err != nil {
				return err
			}
		}
		return p.succeed(ctx, tx, period, PhaseRevalidation, runID, actor, map[string]any{"validation": vc, "tracking": tc}, nil)
	})
	if err != nil {
		return vc, tc, &PhaseError{Reason: "Re-validation failed", Err: err}
	}
	return vc, tc, nil
}

// RunAll runs ingestion, validation and tracking of a period in order, synchronously (what
// `recondesk faulty ingest` and the demo seed do). It stops at the first failure.
func (p *FaultyPipeline) RunAll(ctx context.Context, period faulty.Period, actor string) ([]PhaseResult, error) {
	var out []PhaseResult
	for _, ph := range []string{PhaseIngestion, PhaseValidation, PhaseTracking} {
		r, err := p.Run(ctx, period, ph, actor, nil)
		out = append(out, r)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// WriteMasterFiles writes the next master file version of each batch in tx and returns them.
// The batches are locked, so versions never collide; reason says why (e.g. "tracking",
// "notification"). Call it in the transaction that decides an email so the email can record
// the version it carries.
func WriteMasterFiles(ctx context.Context, tx pgx.Tx, batchIDs []string, reason string, loc *time.Location, now time.Time) ([]store.MasterFile, error) {
	contents, err := store.LoadMasterFileContent(ctx, tx, batchIDs, loc, now)
	if err != nil {
		return nil, err
	}
	files := make([]store.NewMasterFile, 0, len(contents))
	for _, b := range contents {
		data, err := masterfile.Build(b)
		if err != nil {
			return nil, fmt.Errorf("master file of batch %s: %w", b.ID, err)
		}
		files = append(files, store.NewMasterFile{BatchID: b.ID, Version: b.Version, Data: data, Reason: reason})
	}
	return store.InsertMasterFiles(ctx, tx, files)
}

// FaultyPhaseWorker runs one phase of a period.
type FaultyPhaseWorker struct {
	river.WorkerDefaults[FaultyPhaseArgs]
	Pipeline *FaultyPipeline
}

// Timeout allows a month of 100k rows and a slow MongoDB.
func (w *FaultyPhaseWorker) Timeout(*river.Job[FaultyPhaseArgs]) time.Duration { return time.Hour }

// Work runs the phase; a permanent failure (rejected token, unreadable layout, missing
// predecessor) cancels the job instead of retrying it.
func (w *FaultyPhaseWorker) Work(ctx context.Context, job *river.Job[FaultyPhaseArgs]) error {
	period, err := faulty.ParsePeriod(job.Args.Period)
	if err != nil {
		return river.JobCancel(err)
	}
	var next Enqueuer
	if c, err := river.ClientFromContextSafely[pgx.Tx](ctx); err == nil {
		next = c
	}
	res, err := w.Pipeline.Run(ctx, period, job.Args.Phase, store.SystemActor(job.Args.Kind()), next)
	var pe *PhaseError
	if errors.As(err, &pe) && pe.Permanent {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	w.Pipeline.log().Info("faulty phase job", "job_id", job.ID, "period", res.Period, "phase", res.Phase, "trigger", job.Args.Trigger, "run_id", res.RunID)
	return nil
}

// FaultyScheduleWorker enqueues what is due.
type FaultyScheduleWorker struct {
	river.WorkerDefaults[FaultyScheduleArgs]
	Pipeline *FaultyPipeline
}

// Work enqueues the due phases of the current and previous month and the re-validations.
func (w *FaultyScheduleWorker) Work(ctx context.Context, job *river.Job[FaultyScheduleArgs]) error {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	n, err := SchedulePhases(ctx, w.Pipeline.Pool, client, w.Pipeline.FaultyPipelineDeps, w.Pipeline.now())
	if err == nil && n > 0 {
		w.Pipeline.log().Info("faulty schedule", "job_id", job.ID, "enqueued", n)
	}
	return err
}

// SchedulePhases enqueues, for the current and the previous month, the first period phase whose
// window has opened and that has not completed, and a re-validation of every tracked period
// with open items or UNKNOWN_PARTNER rows. Unique options keep it to one job per period, phase
// and day, so running it often (or in several processes) enqueues nothing twice. Phases whose
// dependency is not configured (no ChargeCloud for ingestion, no MongoDB for validation) are
// not enqueued. It returns how many jobs were newly inserted.
func SchedulePhases(ctx context.Context, pool *pgxpool.Pool, client Enqueuer, d FaultyPipelineDeps, now time.Time) (int, error) {
	policy := d.Policy
	runnable := func(phase string) bool {
		switch phase {
		case PhaseIngestion:
			return d.ChargeCloud != nil
		case PhaseValidation, PhaseRevalidation:
			return d.Bookings != nil
		}
		return true
	}
	inserted := 0
	err := store.InTx(ctx, pool, func(tx pgx.Tx) error {
		cur := faulty.PeriodOf(now, policy.Location)
		for _, per := range []faulty.Period{cur.Prev(), cur} {
			facts := faulty.PeriodFacts{Period: per, Completed: map[faulty.Phase]time.Time{}}
			fp, err := store.FaultyPeriodByID(ctx, tx, per.String())
			switch {
			case err == nil:
				facts = fp.Facts()
			case apperror.CodeOf(err) != apperror.NotFound:
				return err
			}
			ph, ok := faulty.PhaseDue(policy, facts, now)
			if !ok || !runnable(string(ph)) {
				continue
			}
			r, err := client.InsertTx(ctx, tx, FaultyPhaseArgs{Period: per.String(), Phase: string(ph), Trigger: TriggerSchedule}, PhaseInsertOpts(TriggerSchedule))
			if err != nil {
				return err
			}
			if !r.UniqueSkippedAsDuplicate {
				inserted++
			}
		}
		if !runnable(PhaseRevalidation) {
			return nil
		}
		periods, err := store.PeriodsNeedingRevalidation(ctx, tx)
		if err != nil {
			return err
		}
		for _, per := range periods {
			fp, err := store.FaultyPeriodByID(ctx, tx, per)
			if err != nil || fp.TrackedAt == nil {
				continue
			}
			r, err := client.InsertTx(ctx, tx, FaultyPhaseArgs{Period: per, Phase: PhaseRevalidation, Trigger: TriggerSchedule}, PhaseInsertOpts(TriggerSchedule))
			if err != nil {
				return err
			}
			if !r.UniqueSkippedAsDuplicate {
				inserted++
			}
		}
		return nil
	})
	return inserted, err
}

// addFaultyPipelineWorkers registers the phase and schedule workers.
func addFaultyPipelineWorkers(w *river.Workers, d Deps) {
	p := NewFaultyPipeline(d)
	river.AddWorker(w, &FaultyPhaseWorker{Pipeline: p})
	river.AddWorker(w, &FaultyScheduleWorker{Pipeline: p})
}

// faultyPipelinePeriodic runs the scheduler hourly (and on start); the phase jobs it enqueues
// are unique per day, so each phase is tried at most once a day until it completes.
func faultyPipelinePeriodic() []*river.PeriodicJob {
	const every = time.Hour
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(every), func() (river.JobArgs, *river.InsertOpts) {
			return FaultyScheduleArgs{}, &river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByPeriod: every}}
		}, &river.PeriodicJobOpts{ID: FaultyScheduleArgs{}.Kind(), RunOnStart: true}),
	}
}
