package web

import (
	"net/http"

	"recondesk/internal/store"
	"recondesk/views/ledger"
	"recondesk/web/query"
)

const ledgerPageSize = 50

func handleLedger(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := query.Text("search", r.URL.Query().Get("q"))
		if err != nil {
			fail(d, w, r, err)
			return
		}
		page, err := query.Page(r.URL.Query().Get("page"))
		if err != nil {
			fail(d, w, r, err)
			return
		}
		balances, err := store.DriverBalances(r.Context(), d.Pool, q, ledgerPageSize+1, (page-1)*ledgerPageSize)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		totals, err := store.Totals(r.Context(), d.Pool)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		data := ledger.BalancesData{Balances: balances, Totals: totals, Q: q, Page: page, TZ: displayTZ(d)}
		if len(balances) > ledgerPageSize {
			data.Balances, data.More = balances[:ledgerPageSize], true
		}
		render(w, r, http.StatusOK, ledger.BalancesPage(shellFor(d, r, "Ledger", "Ledger"), data), ledger.Balances(data))
	})
}

func handleDriverStatement(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			fail(d, w, r, err)
			return
		}
		driver, err := store.DriverByID(r.Context(), d.Pool, id)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		q := r.URL.Query()
		before, err := query.After(q.Get("before"))
		if err != nil {
			fail(d, w, r, err)
			return
		}
		after, err := query.After(q.Get("after"))
		if err != nil {
			fail(d, w, r, err)
			return
		}
		page, err := store.DriverStatementPage(r.Context(), d.Pool, store.StatementPageQuery{DriverID: id, Before: before, After: after})
		if err != nil {
			fail(d, w, r, err)
			return
		}
		render(w, r, http.StatusOK, ledger.StatementPage(shellFor(d, r, driver.Name, "Ledger"),
			ledger.StatementData{Driver: driver, Lines: page.Lines, Page: page, TZ: displayTZ(d)}), nil)
	})
}

func handleJournal(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			fail(d, w, r, err)
			return
		}
		j, err := store.Journal(r.Context(), d.Pool, id)
		if err == nil {
			err = store.NameJournal(r.Context(), d.Pool, &j, displayTZ(d))
		}
		if err != nil {
			fail(d, w, r, err)
			return
		}
		render(w, r, http.StatusOK, ledger.JournalPage(shellFor(d, r, "Journal #"+itoa(id), "Ledger"), j, displayTZ(d)), nil)
	})
}
