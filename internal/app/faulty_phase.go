package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"recondesk/internal/apperror"
	"recondesk/internal/bookings"
	"recondesk/internal/chargecloud"
	"recondesk/internal/faulty"
	"recondesk/internal/store"
)

// Triggers of a FaultyPhaseArgs job.
const (
	TriggerSchedule = "schedule" // the hourly scheduler (at most one job per phase and day)
	TriggerManual   = "manual"   // a "Run now" or "Re-validate" button, the API, a partner save
	TriggerChain    = "chain"    // the previous phase finished
)

// PhaseInsertOpts are the insert options for a phase job by trigger: a scheduled job is unique
// per period, phase and day (a failed phase is retried the next day); any other is unique
// while it waits or runs, so a double click or a repeated API call enqueues it once.
func PhaseInsertOpts(trigger string) *river.InsertOpts {
	if trigger == TriggerSchedule {
		return &river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: 24 * time.Hour,
			ByState: append(rivertype.UniqueOptsByStateDefault(), rivertype.JobStateDiscarded, rivertype.JobStateCancelled)}}
	}
	return &river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled}}}
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

// PhaseRun says which phase of which period to run, for whom.
type PhaseRun struct {
	Period faulty.Period
	Phase  faulty.Phase
	Actor  Actor
	// Chain queues the following phase (in the run's transaction) when it is
	// due or has completed before; the phase worker sets it, the CLI does not.
	Chain bool
}

// faultyLockPeriod serialises every read and write of one period's phases.
func faultyLockPeriod(ctx context.Context, tx pgx.Tx, period faulty.Period) error {
	return store.LockFaultyPeriod(ctx, tx, period.String())
}

// RunPhase runs one phase of a period now, recording a faulty_runs row (running → succeeded or
// failed with the reason) and, with the run's success, an audit event. Ingestion, validation
// and tracking read and write the period under its lock in one transaction, so two phases of
// a period never interleave.
func (a *App) RunPhase(ctx context.Context, in PhaseRun) (PhaseResult, error) {
	res := PhaseResult{Period: in.Period.String(), Phase: string(in.Phase)}
	if !in.Phase.Runnable() {
		return res, &PhaseError{Permanent: true, Reason: fmt.Sprintf("unknown phase %q: use ingestion, validation, tracking or revalidation", in.Phase)}
	}
	began := time.Now()
	runID, err := store.StartFaultyRun(ctx, a.Pool, in.Period.String(), in.Phase, in.Actor.String())
	if err != nil {
		return res, err
	}
	res.RunID = runID
	var body []byte
	switch in.Phase {
	case faulty.PhaseIngestion:
		res.Ingest, body, err = a.ingest(ctx, in, runID)
	case faulty.PhaseValidation:
		res.Validation, err = a.validate(ctx, in, runID)
	case faulty.PhaseTracking:
		res.Tracking, err = a.track(ctx, in, runID)
	case faulty.PhaseRevalidation:
		res.Validation, res.Tracking, err = a.revalidate(ctx, in, runID)
	}
	res.Millis = time.Since(began).Milliseconds()
	outcome := store.RunSucceeded
	if err != nil {
		outcome = store.RunFailed
		msg := err.Error()
		var pe *PhaseError
		if errors.As(err, &pe) {
			msg = pe.Reason
		}
		// The run row is written apart from the failed transaction.
		if ferr := store.FinishFaultyRun(context.WithoutCancel(ctx), a.Pool, runID, store.RunFailed, msg, res, body); ferr != nil {
			a.Logger.Error("faulty run: record failure", "period", res.Period, "phase", res.Phase, "err", ferr.Error())
		}
		a.Logger.Warn("faulty phase failed", "period", res.Period, "phase", res.Phase, "run_id", runID, "reason", msg)
	} else {
		a.Logger.Info("faulty phase done", "period", res.Period, "phase", res.Phase, "run_id", runID, "ms", res.Millis)
	}
	a.Metrics.Events.WithLabelValues("faulty."+string(in.Phase), outcome).Inc()
	return res, err
}

// RunAllPhases runs ingestion, validation and tracking of a period in order, synchronously (what
// `recondesk faulty ingest` and the demo seed do). It stops at the first failure.
func (a *App) RunAllPhases(ctx context.Context, period faulty.Period, actor Actor) ([]PhaseResult, error) {
	var out []PhaseResult
	for _, ph := range faulty.PeriodPhases {
		r, err := a.RunPhase(ctx, PhaseRun{Period: period, Phase: ph, Actor: actor})
		out = append(out, r)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// succeed records the run's success, the phase's completion and an audit event in tx, and
// queues the next phase when in.Chain and it is due.
func (a *App) succeed(ctx context.Context, tx pgx.Tx, in PhaseRun, runID int64, counts any) error {
	if in.Phase != faulty.PhaseRevalidation {
		if _, err := store.MarkFaultyPhaseDoneAt(ctx, tx, in.Period.String(), in.Phase, a.Now()); err != nil {
			return err
		}
	}
	if err := store.FinishFaultyRun(ctx, tx, runID, store.RunSucceeded, "", counts, nil); err != nil {
		return err
	}
	if err := store.Audit(ctx, tx, in.Actor.String(), "faulty_period."+string(in.Phase), "faulty_period", in.Period.String(), nil, counts, ""); err != nil {
		return err
	}
	following, ok := in.Phase.Next()
	if !in.Chain || !ok {
		return nil
	}
	fp, err := store.FaultyPeriodByID(ctx, tx, in.Period.String())
	if err != nil {
		return err
	}
	_, doneBefore := fp.Facts().Completed[following]
	policy := a.FaultyPolicy()
	w, _ := policy.Window(following)
	if doneBefore || !a.Now().Before(policy.DayStart(in.Period, w.First)) {
		_, err = a.followUpTx(ctx, tx, FaultyPhaseArgs{Period: in.Period.String(), Phase: string(following), Trigger: TriggerChain}, PhaseInsertOpts(TriggerChain))
	}
	return err
}

// ingest fetches the report, streams it into the period's rows and marks absent rows.
func (a *App) ingest(ctx context.Context, in PhaseRun, runID int64) (*IngestCounts, []byte, error) {
	c := &IngestCounts{}
	if a.Faulty.ChargeCloud == nil {
		return c, nil, &PhaseError{Permanent: true, Reason: "ChargeCloud is not configured: set CHARGECLOUD_URL and CHARGECLOUD_TOKEN"}
	}
	policy := a.FaultyPolicy()
	rep, err := a.Faulty.ChargeCloud.FetchPeriod(ctx, in.Period, policy.Location)
	if err != nil {
		var ce *chargecloud.Error
		if errors.As(err, &ce) {
			c.Attempts = ce.Attempts
			return c, keptBody(ce.Body), &PhaseError{Permanent: ce.Permanent, Reason: ce.Error(), Err: ce.Err}
		}
		return c, nil, &PhaseError{Reason: "fetching the ChargeCloud report failed", Err: err}
	}
	c.Bytes, c.Attempts = len(rep.Body), rep.Attempts
	rr, err := faulty.ReadReport(bytes.NewReader(rep.Body), int64(len(rep.Body)), faulty.ReportOptions{Location: policy.Location, TempDir: a.Faulty.TempDir})
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
	err = a.inTx(ctx, func(tx pgx.Tx) error {
		if err := faultyLockPeriod(ctx, tx, in.Period); err != nil {
			return err
		}
		// A skipped row may be a booking still in the report: absent rows are only marked when
		// every row was read.
		up, err := store.UpsertReportRows(ctx, tx, in.Period.String(), source, func() bool { return c.RowErrors == 0 })
		if err != nil {
			return err
		}
		c.ReportUpsert = up
		return a.succeed(ctx, tx, in, runID, c)
	})
	if err != nil {
		return c, nil, &PhaseError{Reason: "Storing the report failed", Err: err}
	}
	a.Metrics.Events.WithLabelValues("faulty.ingest.rows", "stored").Add(float64(c.Distinct))
	a.Metrics.Events.WithLabelValues("faulty.ingest.rows", "error").Add(float64(c.RowErrors))
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

// periodFacts loads what is known of a period; an unknown period has completed nothing.
func periodFacts(ctx context.Context, db store.DBTX, period faulty.Period) (faulty.PeriodFacts, bool, error) {
	fp, err := store.FaultyPeriodByID(ctx, db, period.String())
	switch {
	case err == nil:
		return fp.Facts(), true, nil
	case apperror.CodeOf(err) == apperror.NotFound:
		return faulty.PeriodFacts{Period: period, Completed: map[faulty.Phase]time.Time{}}, false, nil
	}
	return faulty.PeriodFacts{}, false, err
}

// requireReady fails a phase whose predecessor never completed (the one phase-order rule).
func requireReady(ctx context.Context, db store.DBTX, period faulty.Period, ph faulty.Phase) error {
	f, _, err := periodFacts(ctx, db, period)
	if err != nil {
		return err
	}
	if missing, ok := ph.Ready(f); !ok {
		return &PhaseError{Permanent: true, Reason: fmt.Sprintf("%s of %s needs the %s phase to have completed first", phaseTitle(ph), period, missing)}
	}
	return nil
}

func phaseTitle(ph faulty.Phase) string {
	if ph == faulty.PhaseRevalidation {
		return "Re-validation"
	}
	s := string(ph)
	return string(s[0]-'a'+'A') + s[1:]
}

// validateRows reads the scope's rows in tx (under the period lock) in chunks of c.Chunk rows
// by id; for each chunk it looks the references up in MongoDB with one bulk query, applies the
// predicate and stages the outcomes in w (COPY), so memory holds one chunk, never the period.
func (a *App) validateRows(ctx context.Context, tx pgx.Tx, period faulty.Period, scope store.ValidationScope, w *store.ValidationWriter) (*ValidationCounts, error) {
	c := &ValidationCounts{ByReason: map[string]int{}, Chunk: a.Faulty.Chunk}
	if c.Chunk <= 0 {
		c.Chunk = bookings.DefaultChunk
	}
	if a.Faulty.Bookings == nil {
		return c, &PhaseError{Permanent: true, Reason: "MongoDB is not configured: set MONGODB_URI"}
	}
	partners, err := store.ListPartners(ctx, tx)
	if err != nil {
		return c, err
	}
	byParty := make(map[string]store.Partner, len(partners))
	for _, pt := range partners {
		byParty[pt.PartyID] = pt
	}
	refs := make([]string, 0, c.Chunk)
	results := make([]store.Validated, 0, c.Chunk)
	var after int64
	for {
		rows, err := store.RowsToValidateAfter(ctx, tx, period.String(), scope, after, c.Chunk)
		if err != nil {
			return c, err
		}
		if len(rows) == 0 {
			return c, nil
		}
		after = rows[len(rows)-1].ID
		refs = refs[:0]
		for _, r := range rows {
			if _, ok := byParty[r.PartyID]; ok {
				refs = append(refs, r.AuthRef)
			}
		}
		found, st, err := bookings.Lookup(ctx, a.Faulty.Bookings, refs, c.Chunk)
		c.MongoQueries += st.Queries
		c.MongoRoundTrips += st.RoundTrips
		c.MongoMillis += st.Duration.Milliseconds()
		c.MongoFound += st.Found
		if err != nil {
			return c, &PhaseError{Reason: "MongoDB look-up failed (is MongoDB reachable?)", Err: err}
		}
		results = results[:0]
		for _, r := range rows {
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
			results = append(results, v)
		}
		c.Checked += len(rows)
		if err := w.Stage(ctx, results); err != nil {
			return c, err
		}
	}
}

// phaseFailure wraps a store error as a retryable phase failure, keeping PhaseErrors as they are.
func phaseFailure(reason string, err error) error {
	var pe *PhaseError
	if errors.As(err, &pe) {
		return err
	}
	return &PhaseError{Reason: reason, Err: err}
}

// validate checks every row of the latest report against MongoDB. The rows are read and the
// outcomes written in one transaction under the period lock, so an ingestion of the period
// cannot land in between and be overwritten by outcomes computed from older rows.
func (a *App) validate(ctx context.Context, in PhaseRun, runID int64) (*ValidationCounts, error) {
	var c *ValidationCounts
	err := a.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if c, err = a.validateLocked(ctx, tx, in, store.ScopeAll); err != nil {
			return err
		}
		return a.succeed(ctx, tx, in, runID, c)
	})
	if err != nil {
		return c, phaseFailure("Storing the validation failed", err)
	}
	return c, nil
}

// track applies the item rules and writes master files for the batches that changed.
func (a *App) track(ctx context.Context, in PhaseRun, runID int64) (*TrackCounts, error) {
	c := &TrackCounts{}
	err := a.inTx(ctx, func(tx pgx.Tx) error {
		if err := faultyLockPeriod(ctx, tx, in.Period); err != nil {
			return err
		}
		if err := requireReady(ctx, tx, in.Period, in.Phase); err != nil {
			return err
		}
		if err := a.trackTx(ctx, tx, in, c); err != nil {
			return err
		}
		return a.succeed(ctx, tx, in, runID, c)
	})
	if err != nil {
		return c, phaseFailure("Tracking failed", err)
	}
	return c, nil
}

func (a *App) trackTx(ctx context.Context, tx pgx.Tx, in PhaseRun, c *TrackCounts) error {
	tr, err := store.TrackPeriod(ctx, tx, in.Period.String(), in.Actor.String())
	if err != nil {
		return err
	}
	c.TrackResult = tr
	changed := tr.ChangedBatches()
	if len(changed) == 0 {
		return nil
	}
	files, err := WriteMasterFiles(ctx, tx, changed, "tracking", a.masterFileZone(), a.Now())
	if err != nil {
		return err
	}
	c.MasterFiles = len(files)
	return store.MarkBatchesTrackedAt(ctx, tx, changed, a.Now())
}

// validateLocked takes the period lock, checks the phase may run, then checks the rows of scope
// against MongoDB and writes the outcomes, all in tx: reads and writes under the same lock.
func (a *App) validateLocked(ctx context.Context, tx pgx.Tx, in PhaseRun, scope store.ValidationScope) (*ValidationCounts, error) {
	if err := faultyLockPeriod(ctx, tx, in.Period); err != nil {
		return nil, err
	}
	if err := requireReady(ctx, tx, in.Period, in.Phase); err != nil {
		return nil, err
	}
	w, err := store.BeginValidation(ctx, tx)
	if err != nil {
		return nil, err
	}
	c, err := a.validateRows(ctx, tx, in.Period, scope, w)
	if err != nil {
		return nil, err
	}
	if _, err := w.Apply(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// revalidate re-checks the open items and UNKNOWN_PARTNER rows against MongoDB and, once the
// period has been tracked, applies the item rules (resolving, reopening, new batches).
func (a *App) revalidate(ctx context.Context, in PhaseRun, runID int64) (*ValidationCounts, *TrackCounts, error) {
	var vc *ValidationCounts
	var tc *TrackCounts
	err := a.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if vc, err = a.validateLocked(ctx, tx, in, store.ScopeRevalidation); err != nil {
			return err
		}
		fp, err := store.FaultyPeriodByID(ctx, tx, in.Period.String())
		if err != nil {
			return err
		}
		if fp.TrackedAt != nil {
			tc = &TrackCounts{}
			if err := a.trackTx(ctx, tx, in, tc); err != nil {
				return err
			}
		}
		return a.succeed(ctx, tx, in, runID, map[string]any{"validation": vc, "tracking": tc})
	})
	if err != nil {
		return vc, tc, phaseFailure("Re-validation failed", err)
	}
	return vc, tc, nil
}

// PhaseRequest is staff's (or the API's) request to run one phase of a period now.
type PhaseRequest struct {
	Period faulty.Period
	Phase  faulty.Phase
	Actor  Actor
	// Via labels the audit event ("ui", "api").
	Via string
}

// PhaseQueued is a queued (or already queued) phase job.
type PhaseQueued struct {
	JobID  int64  `json:"job_id"`
	Period string `json:"period"`
	Phase  string `json:"phase"`
	// Duplicate is set when the same phase of the period was already queued or running:
	// JobID is that job's.
	Duplicate bool   `json:"duplicate"`
	Status    string `json:"status"`
}

// RequestPhase checks that the phase may run and queues it as a unique job with an audit
// event, in one transaction; a request while the same phase waits or runs queues nothing and
// returns that job. No work that grows with the data happens in the caller's request.
func (a *App) RequestPhase(ctx context.Context, in PhaseRequest) (PhaseQueued, error) {
	out := PhaseQueued{Period: in.Period.String(), Phase: string(in.Phase), Status: "queued"}
	if !in.Phase.Runnable() {
		return out, apperror.New(apperror.Invalid, "%q is not a phase: choose ingestion, validation, tracking or revalidation.", in.Phase)
	}
	if a.jobs == nil {
		return out, apperror.New(apperror.Unavailable, "The job queue is not available; try again shortly.")
	}
	err := a.inTx(ctx, func(tx pgx.Tx) error {
		f, _, err := periodFacts(ctx, tx, in.Period)
		if err != nil {
			return err
		}
		if missing, ok := in.Phase.Ready(f); !ok {
			return apperror.New(apperror.Rule, "The %s of %s cannot run before its %s has completed; run %s first.", in.Phase, in.Period, missing, missing)
		}
		res, err := a.insertTx(ctx, tx, FaultyPhaseArgs{Period: in.Period.String(), Phase: string(in.Phase), Trigger: TriggerManual}, PhaseInsertOpts(TriggerManual))
		if err != nil {
			return err
		}
		out.JobID, out.Duplicate = res.Job.ID, res.UniqueSkippedAsDuplicate
		if out.Duplicate {
			out.Status = "already_queued"
			return nil
		}
		return store.Audit(ctx, tx, in.Actor.String(), "faulty_period.run_now", "faulty_period", in.Period.String(), nil,
			map[string]any{"phase": in.Phase, "job_id": out.JobID, "via": in.Via}, "")
	})
	return out, err
}

// RequestRevalidation queues the re-validation of period ("" means every period with open
// items or unknown-partner rows) and returns the periods queued.
func (a *App) RequestRevalidation(ctx context.Context, actor Actor, period string) ([]string, error) {
	var periods []string
	err := a.inTx(ctx, func(tx pgx.Tx) error {
		all, err := store.PeriodsNeedingRevalidation(ctx, tx)
		if err != nil {
			return err
		}
		for _, p := range all {
			if period == "" || p == period {
				periods = append(periods, p)
			}
		}
		if err := a.queuePhasesTx(ctx, tx, periods, faulty.PhaseRevalidation); err != nil || len(periods) == 0 {
			return err
		}
		return store.Audit(ctx, tx, actor.String(), "faulty.revalidate", "faulty_period", joinComma(periods), nil,
			map[string]any{"periods": periods}, "")
	})
	return periods, err
}

// queuePhasesTx queues a manual run of phase for each period in tx.
func (a *App) queuePhasesTx(ctx context.Context, tx pgx.Tx, periods []string, phase faulty.Phase) error {
	if len(periods) == 0 {
		return nil
	}
	if a.jobs == nil {
		return apperror.New(apperror.Unavailable, "Background jobs are not available in this process; try again later.")
	}
	for _, p := range periods {
		if _, err := faulty.ParsePeriod(p); err != nil {
			return apperror.New(apperror.Invalid, "%q is not a period: write it as YYYY-MM.", p)
		}
		if _, err := a.insertTx(ctx, tx, FaultyPhaseArgs{Period: p, Phase: string(phase), Trigger: TriggerManual}, PhaseInsertOpts(TriggerManual)); err != nil {
			return err
		}
	}
	return nil
}

func joinComma(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ","
		}
		out += v
	}
	return out
}

// Enqueuer inserts jobs in a transaction (a River client).
type Enqueuer interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Schedule queues, for the current and the previous month, the first period phase whose
// window has opened and that has not completed, and a re-validation of every tracked period
// with open items or UNKNOWN_PARTNER rows. Unique options keep it to one job per period, phase
// and day, so running it often (or in several processes) queues nothing twice. Phases whose
// dependency is not configured (no ChargeCloud for ingestion, no MongoDB for validation) are
// not queued. It returns how many jobs were newly inserted. client nil uses the App's.
func (a *App) Schedule(ctx context.Context, client Enqueuer, now time.Time) (int, error) {
	if client == nil {
		if a.jobs == nil {
			return 0, errNoJobs
		}
		client = a.jobs
	}
	policy := a.FaultyPolicy()
	runnable := func(ph faulty.Phase) bool {
		switch ph {
		case faulty.PhaseIngestion:
			return a.Faulty.ChargeCloud != nil
		case faulty.PhaseValidation, faulty.PhaseRevalidation:
			return a.Faulty.Bookings != nil
		}
		return true
	}
	inserted := 0
	insert := func(tx pgx.Tx, per string, ph faulty.Phase) error {
		r, err := client.InsertTx(ctx, tx, FaultyPhaseArgs{Period: per, Phase: string(ph), Trigger: TriggerSchedule}, PhaseInsertOpts(TriggerSchedule))
		if err == nil && !r.UniqueSkippedAsDuplicate {
			inserted++
		}
		return err
	}
	err := a.inTx(ctx, func(tx pgx.Tx) error {
		cur := faulty.PeriodOf(now, policy.Location)
		for _, per := range []faulty.Period{cur.Prev(), cur} {
			facts, _, err := periodFacts(ctx, tx, per)
			if err != nil {
				return err
			}
			ph, ok := faulty.PhaseDue(policy, facts, now)
			if !ok || !runnable(ph) {
				continue
			}
			if err := insert(tx, per.String(), ph); err != nil {
				return err
			}
		}
		if !runnable(faulty.PhaseRevalidation) {
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
			if err := insert(tx, per, faulty.PhaseRevalidation); err != nil {
				return err
			}
		}
		return nil
	})
	return inserted, err
}
