package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"recondesk/internal/app"
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
		data := faultyqueue.PeriodData{Period: per.String(), Phases: jobs.PipelinePhases, CanAct: u.Role.Allows(auth.Finance), TZ: displayTZ(d)}
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
		if data.Active, err = store.ActivePhaseJobs(r.Context(), d.Pool, per.String()); err != nil {
			fail(d, w, r, err)
			return
		}
		if data.Runs, err = store.ListFaultyRuns(r.Context(), d.Pool, per.String(), 30); err != nil {
			fail(d, w, r, err)
			return
		}
		if data.ActorNames, err = actorNames(r.Context(), d, data.Runs); err != nil {
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

// handleFaultyPhaseRun queues one phase of a period now ("Run now").
func handleFaultyPhaseRun(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		per, err := pathPeriod(r)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		phase := strings.TrimSpace(r.PostFormValue("phase"))
		u, _ := userFrom(r.Context())
		q, err := d.App.RequestPhase(r.Context(), app.PhaseRequest{Period: per, Phase: faulty.Phase(phase), Actor: app.User(u.ID), Via: "ui"})
		if err != nil {
			fail(d, w, r, err)
			return
		}
		msg := "The " + phase + " of " + per.String() + " is queued; this page shows its progress."
		if q.Duplicate {
			msg = "The " + phase + " of " + per.String() + " is already queued or running; this page shows its progress."
		}
		flash(d, r, "success", msg)
		redirect(w, r, "/faulty/periods/"+per.String())
	})
}

// actorNames looks up the labels of the runs' actors in one query.
func actorNames(ctx context.Context, d Deps, runs []store.FaultyRun) (map[string]string, error) {
	keys := make([]string, 0, len(runs))
	for _, r := range runs {
		keys = append(keys, r.Actor)
	}
	names, err := store.SubjectNames(ctx, d.Pool, keys, displayTZ(d))
	out := make(map[string]string, len(names))
	for k, n := range names {
		out[k] = n.Label
	}
	return out, err
}
