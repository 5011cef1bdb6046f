package web

import (
	"net/http"
	"strings"

	"recondesk/internal/app"
	"recondesk/internal/apperror"
	"recondesk/internal/auth"
	"recondesk/internal/faulty"
	"recondesk/internal/store"
	"recondesk/views/faultyqueue"
)

// queuePeriod reads an optional period filter; "" means every period.
func queuePeriod(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	if _, err := faulty.ParsePeriod(v); err != nil {
		return "", apperror.New(apperror.Invalid, "%q is not a period: choose one from the list or write it as YYYY-MM.", v)
	}
	return v, nil
}

func handleFaultyQueue(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := userFrom(r.Context())
		period, err := queuePeriod(r.URL.Query().Get("period"))
		if err != nil {
			fail(d, w, r, err)
			return
		}
		q := faultyqueue.QueueData{Period: period, CanAct: u.Role.Allows(auth.Finance), TZ: displayTZ(d)}
		if reason := r.URL.Query().Get("reason"); reason != "" {
			for _, known := range faulty.Reasons {
				if string(known) == reason {
					q.Reason = reason
				}
			}
			if q.Reason == "" {
				fail(d, w, r, apperror.New(apperror.Invalid, "%q is not a reason code; choose one from the table.", reason))
				return
			}
		}
		ps, err := store.ListFaultyPeriods(r.Context(), d.Pool)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		for _, p := range ps {
			q.Periods = append(q.Periods, p.Period)
		}
		counts, err := store.NotConfirmedCounts(r.Context(), d.Pool, period)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		for _, c := range counts {
			q.Reasons = append(q.Reasons, faultyqueue.ReasonRow{Reason: string(c.Reason), Text: c.Reason.Text(), Count: c.Count})
		}
		if q.Unknown, err = store.UnknownParties(r.Context(), d.Pool, period); err != nil {
			fail(d, w, r, err)
			return
		}
		if q.Reason != "" {
			if q.Rows, err = store.ListReportRows(r.Context(), d.Pool, store.ReportRowFilter{Period: period, Reason: q.Reason, Limit: 200}); err != nil {
				fail(d, w, r, err)
				return
			}
		}
		render(w, r, http.StatusOK, faultyqueue.QueuePage(shellFor(d, r, "Faulty bookings queue", "Faulty bookings"), q), faultyqueue.Queue(q))
	})
}

// handleFaultyRevalidate queues the re-validation of one period, or of every period with open
// items or unknown-partner rows.
func handleFaultyRevalidate(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		me, _ := userFrom(r.Context())
		period, err := queuePeriod(r.PostFormValue("period"))
		if err != nil {
			fail(d, w, r, err)
			return
		}
		periods, err := d.App.RequestRevalidation(r.Context(), app.User(me.ID), period)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		back := "/faulty/queue"
		if period != "" {
			back += "?period=" + period
		}
		if len(periods) == 0 {
			flash(d, r, "info", "Nothing to re-validate: no validated period has open items or unknown-partner rows.")
		} else {
			flash(d, r, "success", "Re-validation queued for "+strings.Join(periods, ", ")+". Reload in a moment to see the result.")
		}
		redirect(w, r, back)
	})
}
