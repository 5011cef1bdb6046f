package web

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/a-h/templ"

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

// ladder returns the ladder's dependencies as the web process sees them (its policy and mail
// addresses; sending is left to the workers), for callers that build workers alongside.
func ladder(d Deps) jobs.FaultyLadderDeps {
	return jobs.FaultyLadderDeps{Policy: faultyPolicy(d), MailFrom: d.Config.MailFrom, MailDomain: d.Config.MailDomain, Now: d.Now}
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
	policy, now := faultyPolicy(d), d.Now()
	period, err := store.LatestBatchPeriod(ctx, d.Pool, currentPeriod(policy, now))
	if err != nil {
		return nil, err
	}
	data := views.PanelData{Period: currentPeriod(policy, now)}
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
		states[faulty.BatchState(policy, b.Facts, now)]++
		for _, s := range lateSteps(policy, b.Facts, now) {
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
