package web

import (
	"net/http"
	"sort"

	"recondesk/internal/apperror"
	"recondesk/internal/faulty"
	"recondesk/internal/store"
	views "recondesk/views/faulty"
)

// handleFaultyOverview is the periods × partners grid (?period= narrows it).
func handleFaultyOverview(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		period := r.URL.Query().Get("period")
		if period != "" {
			if _, err := faulty.ParsePeriod(period); err != nil {
				fail(d, w, r, apperror.New(apperror.Invalid, "Period %q is not of the form YYYY-MM, e.g. 2026-01.", period))
				return
			}
		}
		batches, err := store.LoadLadderBatches(r.Context(), d.Pool, store.LadderFilter{Period: period})
		if err != nil {
			fail(d, w, r, err)
			return
		}
		policy, now := faultyPolicy(d), d.Now()
		data := views.OverviewData{Cells: map[string]views.Cell{}, Period: period}
		seenPeriod, seenPartner := map[string]bool{}, map[int64]bool{}
		for _, b := range batches {
			p := b.Period.String()
			if !seenPeriod[p] {
				seenPeriod[p] = true
				data.Periods = append(data.Periods, p)
			}
			if !seenPartner[b.PartnerID] {
				seenPartner[b.PartnerID] = true
				data.Partners = append(data.Partners, views.OverviewPartner{ID: b.PartnerID, PartyID: b.PartyID, Name: b.PartnerName})
			}
			data.Cells[views.CellKey(p, b.PartnerID)] = views.Cell{BatchID: b.ID, Open: b.Facts.Open, Resolved: b.Facts.Resolved,
				State: faulty.BatchState(policy, b.Facts, now), Late: lateSteps(policy, b.Facts, now)}
		}
		sort.Sort(sort.Reverse(sort.StringSlice(data.Periods)))
		sort.Slice(data.Partners, func(i, j int) bool { return data.Partners[i].Name < data.Partners[j].Name })
		render(w, r, http.StatusOK, views.OverviewPage(shellFor(d, r, "Faulty bookings", "Faulty bookings"), data), views.Overview(data))
	})
}
