package web

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"recondesk/internal/apperror"
	"recondesk/internal/auth"
	"recondesk/internal/faulty"
	"recondesk/internal/jobs"
	"recondesk/internal/store"
	"recondesk/views/faultyqueue"
)

// pathPeriod reads the {period} route parameter; a malformed one is NotFound.
func pathPeriod(r *http.Request) (faulty.Period, error) {
	p, err := faulty.ParsePeriod(chi.URLParam(r, "period"))
	if err != nil {
		return p, apperror.New(apperror.NotFound, "There is no period at %s; periods are written YYYY-MM.", r.URL.Path)
	}
	return p, nil
}

func handleFaultyPeriod(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := userFrom(r.Context())
		per, err := pathPeriod(r)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		policy := faultyPolicy(d)
		data := faultyqueue.PeriodData{Period: per.String(), Phases: jobs.PipelinePhases, CanAct: u.Role.Allows(auth.Finance), TZ: policy.Location}
		facts := faulty.PeriodFacts{Period: per, Completed: map[faulty.Phase]time.Time{}}
		fp, err := store.FaultyPeriodByID(r.Context(), d.Pool, per.String())
		switch {
		case err == nil:
			data.Known, facts = true, fp.Facts()
		case apperror.CodeOf(err) != apperror.NotFound:
			fail(d, w, r, err)
			return
		}
		data.Steps = faulty.PeriodTimeline(policy, facts, d.Now())
		if data.Runs, err = store.ListFaultyRuns(r.Context(), d.Pool, per.String(), 30); err != nil {
			fail(d, w, r, err)
			return
		}
		if data.Known {
			if data.Counts, err = store.FaultyPeriodCounts(r.Context(), d.Pool, per.String()); err != nil {
				fail(d, w, r, err)
				return
			}
			if data.Batches, err = store.ListBatches(r.Context(), d.Pool, store.BatchFilter{Period: per.String()}); err != nil {
				fail(d, w, r, err)
				return
			}
		}
		render(w, r, http.StatusOK, faultyqueue.PeriodPage(shellFor(d, r, "Faulty bookings "+per.String(), "Faulty bookings"), data), faultyqueue.Period(data))
	})
}

// checkPhaseRunnable refuses a phase whose predecessor has not completed, saying what to run first.
func checkPhaseRunnable(r *http.Request, db store.DBTX, per faulty.Period, phase string) error {
	if !slices.Contains(jobs.PipelinePhases, phase) {
		return apperror.New(apperror.Invalid, "%q is not a phase: choose ingestion, validation, tracking or revalidation.", phase)
	}
	need := map[string]faulty.Phase{jobs.PhaseValidation: faulty.PhaseIngestion, jobs.PhaseTracking: faulty.PhaseValidation, jobs.PhaseRevalidation: faulty.PhaseValidation}[phase]
	if need == "" {
		return nil
	}
	fp, err := store.FaultyPeriodByID(r.Context(), db, per.String())
	if err != nil && apperror.CodeOf(err) != apperror.NotFound {
		return err
	}
	if _, ok := fp.Facts().Completed[need]; !ok {
		return apperror.New(apperror.Rule, "The %s of %s cannot run before its %s has completed; run %s first.", phase, per, need, need)
	}
	return nil
}

// handleFaultyPhaseRun queues one phase of a period now ("Run now").
func handleFaultyPhaseRun(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		per, err := pathPeriod(r)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		phase := strings.TrimSpace(r.PostFormValue("phase"))
		if err := queuePhaseNow(d, r, per, phase); err != nil {
			fail(d, w, r, err)
			return
		}
		flash(d, r, "success", "The "+phase+" of "+per.String()+" is queued. Reload in a moment to see the run.")
		redirect(w, r, "/faulty/periods/"+per.String())
	})
}

// queuePhaseNow checks and enqueues a manual phase run with an audit event, in one transaction.
func queuePhaseNow(d Deps, r *http.Request, per faulty.Period, phase string) error {
	me, _ := userFrom(r.Context())
	return store.InTx(r.Context(), d.Pool, func(tx pgx.Tx) error {
		if err := checkPhaseRunnable(r, tx, per, phase); err != nil {
			return err
		}
		if err := enqueuePhases(r.Context(), d, tx, []string{per.String()}, phase); err != nil {
			return err
		}
		return store.Audit(r.Context(), tx, store.UserActor(me.ID), "faulty_period.run_now", "faulty_period", per.String(), nil,
			map[string]any{"phase": phase}, "")
	})
}
