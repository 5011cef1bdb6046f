package web

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"recondesk/internal/auth"

	"recondesk/internal/faulty"
	"recondesk/internal/jobs"
	"recondesk/internal/store"
	views "recondesk/views/faulty"
	"recondesk/views/layout"
)

// FaultyLadderDeps are what the batch pages need beyond Config (EMSP_TZ,
// SEND_HOUR, MAIL_FROM, MAIL_DOMAIN); the zero value uses Config.
type FaultyLadderDeps struct {
	// Policy overrides the policy derived from Config.
	Policy *faulty.Policy
}

// faultyLadderNav is the "Faulty bookings" navigation item.
func faultyLadderNav() []layout.NavItem {
	return []layout.NavItem{{Label: "Faulty bookings", Href: "/faulty"}}
}

// ladder returns the ladder's dependencies for decisions made by the web
// process (Run now, re-escalate); sending is left to the workers.
func ladder(d Deps) jobs.FaultyLadderDeps {
	l := jobs.FaultyLadderDeps{Policy: jobs.LadderPolicy(d.Config), MailFrom: d.Config.MailFrom, MailDomain: d.Config.MailDomain, Now: d.Now}
	if d.Faulty.Ladder.Policy != nil {
		l.Policy = *d.Faulty.Ladder.Policy
	}
	if l.Policy.Location == nil {
		l.Policy.Location = time.UTC
	}
	return l
}

// lateSteps names the steps of a batch past their deadline.
func lateSteps(p faulty.Policy, f faulty.BatchFacts, now time.Time) []string {
	var late []string
	for _, v := range faulty.Timeline(p, f, now) {
		if v.State == faulty.StateLate {
			late = append(late, views.StepLabel(v))
		}
	}
	return late
}

// currentPeriod is the period whose ladder runs now: the month before now's
// month in the EMSP time zone.
func currentPeriod(p faulty.Policy, now time.Time) string {
	return faulty.PeriodOf(now, p.Location).Prev().String()
}

// faultyLadderPanel is the faulty-bookings summary on Home: open bookings
// by partner for the latest period up to the current one, batches by
// state, late phases.
func faultyLadderPanel(ctx context.Context, d Deps) (templ.Component, error) {
	l := ladder(d)
	now := d.Now()
	period, err := store.LatestFaultyPeriod(ctx, d.Pool, currentPeriod(l.Policy, now))
	if err != nil {
		return nil, err
	}
	data := views.PanelData{Period: currentPeriod(l.Policy, now)}
	if period == "" {
		return views.Panel(data), nil
	}
	data.Period = period
	batches, err := store.LoadLadderBatches(ctx, d.Pool, store.LadderFilter{Period: period})
	if err != nil {
		return nil, err
	}
	states := map[faulty.BatchStatus]int{}
	for _, b := range batches {
		data.Partners = append(data.Partners, b.PartnerName)
		data.Open = append(data.Open, int64(b.Facts.Open))
		states[faulty.BatchState(l.Policy, b.Facts, now)]++
		for _, s := range lateSteps(l.Policy, b.Facts, now) {
			data.Late = append(data.Late, views.LateStep{BatchID: b.ID, Partner: b.PartnerName, Period: period, Step: s})
		}
	}
	for s, n := range states {
		data.ByState = append(data.ByState, views.StateCount{State: s, Count: n})
	}
	sort.Slice(data.ByState, func(i, j int) bool { return stateOrder(data.ByState[i].State) < stateOrder(data.ByState[j].State) })
	return views.Panel(data), nil
}

func stateOrder(s faulty.BatchStatus) int {
	for i, v := range []faulty.BatchStatus{faulty.BatchCollecting, faulty.BatchValidated, faulty.BatchTracked, faulty.BatchNotified,
		faulty.BatchReminded, faulty.BatchEscalated, faulty.BatchOverdue, faulty.BatchResolved} {
		if v == s {
			return i
		}
	}
	return 99
}

// ladderFail answers a rejected batch action: a banner on the batch page
// for browsers, the error mapper for everything else.
func ladderFail(d Deps, w http.ResponseWriter, r *http.Request, back string, err error) {
	if !isHTMX(r) && !isAPI(r) && back != "" && statusIsInput(err) {
		flash(d, r, "error", apperrorMessage(err))
		redirect(w, r, back)
		return
	}
	fail(d, w, r, err)
}

// faultyLadderAPIRoutes declares the batch API: viewer reads, finance acts.
func faultyLadderAPIRoutes(r chi.Router, d Deps) {
	r.Group(func(r chi.Router) {
		r.Use(apiAuth(d, auth.Viewer))
		r.Method(http.MethodGet, "/faulty/batches", handleAPIFaultyBatches(d))
		r.Method(http.MethodGet, "/faulty/batches/{id}", handleAPIFaultyBatch(d))
	})
	r.Group(func(r chi.Router) {
		r.Use(apiAuth(d, auth.Finance))
		r.Method(http.MethodPost, "/faulty/batches/{id}/escalate", handleAPIFaultyEscalate(d))
		r.Method(http.MethodPost, "/faulty/ingest", handleAPIFaultyIngest(d))
	})
}

// faultyLadderPageRoutes declares the overview and batch pages (viewer) and
// the batch and email actions and master file downloads (finance).
func faultyLadderPageRoutes(r chi.Router, d Deps) {
	r.Group(func(r chi.Router) {
		r.Use(requireRole(d, auth.Viewer))
		r.Method(http.MethodGet, "/faulty", handleFaultyOverview(d))
		r.Method(http.MethodGet, "/faulty/batches/{id}", handleFaultyBatch(d))
		r.Method(http.MethodGet, "/faulty/batches/{id}/items", handleFaultyBatchItems(d))
	})
	r.Group(func(r chi.Router) {
		r.Use(requireRole(d, auth.Finance))
		r.Method(http.MethodGet, "/faulty/batches/{id}/master-files/{version}", handleFaultyMasterFile(d))
		r.Method(http.MethodPost, "/faulty/batches/{id}/run", handleFaultyRunNow(d))
		r.Method(http.MethodPost, "/faulty/batches/{id}/escalate", handleFaultyEscalate(d))
		r.Method(http.MethodPost, "/faulty/batches/{id}/resolve-items", handleFaultyResolveItems(d))
		r.Method(http.MethodPost, "/faulty/batches/{id}/resolve", handleFaultyResolveBatch(d))
		r.Method(http.MethodPost, "/faulty/emails/{id}/mark-sent", handleFaultyEmailMarkSent(d))
		r.Method(http.MethodPost, "/faulty/emails/{id}/resend", handleFaultyEmailResend(d))
	})
}
