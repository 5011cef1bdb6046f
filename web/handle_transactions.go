package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/xuri/excelize/v2"

	"recondesk/internal/apperror"
	"recondesk/internal/auth"
	"recondesk/internal/store"
	"recondesk/views/ezpass"
)

// parseTxnFilter reads the transaction filters of the page, the exports
// and the API from a query: dates (YYYY-MM-DD, days in tz; "to" is
// inclusive) or RFC 3339 instants, and the whitelisted values.
func parseTxnFilter(q url.Values, tz *time.Location) (store.EZPassTxnFilter, ezpass.TxnFilterForm, map[string]string) {
	form := ezpass.TxnFilterForm{
		From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")), Status: q.Get("status"), Kind: q.Get("kind"),
		Agency: q.Get("agency"), Vehicle: q.Get("vehicle"), Driver: q.Get("driver"), Medallion: q.Get("medallion"),
		Import: strings.TrimSpace(q.Get("import")), Sort: q.Get("sort"), Limit: q.Get("limit"),
		Desc: q.Get("desc") == "1" || q.Get("desc") == "true",
	}
	f := store.EZPassTxnFilter{Status: form.Status, Kind: form.Kind, Agency: form.Agency, Vehicle: form.Vehicle, Driver: form.Driver,
		Medallion: form.Medallion, Sort: form.Sort, Desc: form.Desc, Cursor: q.Get("cursor")}
	errs := map[string]string{}
	day := func(name, s string, next bool) time.Time {
		if s == "" {
			return time.Time{}
		}
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t
		}
		t, err := time.ParseInLocation("2006-01-02", s, tz)
		if err != nil {
			errs[name] = "Enter a date like 2026-01-31."
			return time.Time{}
		}
		if next {
			t = t.AddDate(0, 0, 1)
		}
		return t
	}
	f.From = day("from", form.From, false)
	f.To = day("to", form.To, true)
	if form.Import != "" {
		id, err := strconv.ParseInt(strings.TrimPrefix(form.Import, "#"), 10, 64)
		if err != nil || id <= 0 {
			errs["import"] = "Enter an import number like 12."
		}
		f.ImportID = id
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			errs["limit"] = "The limit is a number from 1 to 500."
		}
		f.Limit = n
	}
	if err := f.Validate(); err != nil {
		if e, ok := err.(*apperror.Error); ok {
			for k, v := range e.Fields {
				errs[k] = v
			}
		}
	}
	return f, form, errs
}

func handleTxns(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, form, errs := parseTxnFilter(r.URL.Query(), d.Config.EZPassTZ)
		u, _ := userFrom(r.Context())
		data := ezpass.TxnsData{Form: form, Errors: errs, First: f.Cursor == "", CanExport: u.Role.Allows(auth.Finance), TZ: d.Config.EZPassTZ}
		status := http.StatusOK
		if len(errs) == 0 {
			page, err := store.ListEZPassTxns(r.Context(), d.Pool, f)
			if err != nil {
				fail(d, w, r, err)
				return
			}
			data.Page = page
			if data.Count, err = store.CountEZPassTxns(r.Context(), d.Pool, f); err != nil {
				fail(d, w, r, err)
				return
			}
		} else {
			status = http.StatusBadRequest
		}
		render(w, r, status, ezpass.TxnsPage(shellFor(d, r, "E-ZPass transactions", "E-ZPass"), data), ezpass.TxnsContent(data))
	})
}

func txnByPath(d Deps, r *http.Request) (store.EZPassTxn, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return store.EZPassTxn{}, apperror.New(apperror.NotFound, "There is no transaction %q.", chi.URLParam(r, "id"))
	}
	return store.EZPassTxnByID(r.Context(), d.Pool, id)
}

func handleTxn(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		t, err := txnByPath(d, r)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		data := ezpass.TxnData{T: t, TZ: d.Config.EZPassTZ}
		if data.Journals, err = store.JournalsForSource(ctx, d.Pool, "EZPASS", strconv.FormatInt(t.ID, 10)); err != nil {
			fail(d, w, r, err)
			return
		}
		if data.Audit, err = store.ListAudit(ctx, d.Pool, store.AuditFilter{SubjectType: "ezpass_transaction", SubjectID: strconv.FormatInt(t.ID, 10), Limit: 100}); err != nil {
			fail(d, w, r, err)
			return
		}
		if data.Actions, err = txnActions(r, d, t); err != nil {
			fail(d, w, r, err)
			return
		}
		title := fmt.Sprintf("Transaction #%d", t.ID)
		render(w, r, http.StatusOK, ezpass.TxnPage(shellFor(d, r, title, "E-ZPass"), data), ezpass.TxnContent(data))
	})
}

// exportHeader is the header row of the transaction exports.
var exportHeader = []string{"ID", "Account", "Lane Txn ID", "Date and time", "Time zone", "Tag/Plate", "Agency", "Entry Plaza",
	"Exit Plaza", "Class", "Amount", "Kind", "Status", "Reason", "Vehicle VIN", "Lease", "Driver", "TLC licence", "Medallion",
	"Match method", "Import"}

// exportRow is one transaction as export cells: text escaped against
// formula injection, amount as a number of dollars.
func exportRow(t store.EZPassTxn, tz *time.Location) (text []string, amount float64) {
	cells := []string{strconv.FormatInt(t.ID, 10), t.Account, t.LaneTxnID, t.TxnAt.In(tz).Format("2006-01-02 15:04:05"), tz.String(),
		t.TagOrPlate, t.Agency, t.EntryPlaza, t.ExitPlaza, t.Class, "", t.Kind, t.Status, t.Reason(), t.VIN, t.LeaseRef,
		t.DriverName, t.DriverTLC, t.Medallion, t.MatchMethod, strconv.FormatInt(t.ImportID, 10)}
	for i := range cells {
		cells[i] = escapeCell(cells[i])
	}
	return cells, float64(t.AmountCents) / 100
}

func exportName(d Deps, ext string) string {
	return fmt.Sprintf("ezpass-transactions-%s.%s", d.Now().In(d.Config.EZPassTZ).Format("20060102-1504"), ext)
}

func handleTxnExportCSV(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, _, errs := parseTxnFilter(r.URL.Query(), d.Config.EZPassTZ)
		if len(errs) > 0 {
			fail(d, w, r, apperror.FieldErrors(errs))
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+exportName(d, "csv")+`"`)
		cw := csv.NewWriter(w)
		_ = cw.Write(exportHeader)
		n := 0
		err := store.EachEZPassTxn(r.Context(), d.Pool, f, func(t store.EZPassTxn) error {
			cells, amount := exportRow(t, d.Config.EZPassTZ)
			cells[10] = strconv.FormatFloat(amount, 'f', 2, 64)
			if n++; n%1000 == 0 {
				cw.Flush()
			}
			return cw.Write(cells)
		})
		cw.Flush()
		if err != nil {
			d.Logger.Error("transactions export", "request_id", RequestIDFrom(r.Context()), "err", err.Error())
		}
	})
}

func handleTxnExportXLSX(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, _, errs := parseTxnFilter(r.URL.Query(), d.Config.EZPassTZ)
		if len(errs) > 0 {
			fail(d, w, r, apperror.FieldErrors(errs))
			return
		}
		book := excelize.NewFile()
		defer book.Close()
		sheet := "Transactions"
		if err := book.SetSheetName("Sheet1", sheet); err != nil {
			fail(d, w, r, err)
			return
		}
		sw, err := book.NewStreamWriter(sheet)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		money, err := book.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
		if err != nil {
			fail(d, w, r, err)
			return
		}
		head := make([]any, len(exportHeader))
		for i, h := range exportHeader {
			head[i] = h
		}
		if err := sw.SetRow("A1", head); err != nil {
			fail(d, w, r, err)
			return
		}
		line := 2
		row := make([]any, len(exportHeader))
		err = store.EachEZPassTxn(r.Context(), d.Pool, f, func(t store.EZPassTxn) error {
			cells, amount := exportRow(t, d.Config.EZPassTZ)
			for i, c := range cells {
				row[i] = c
			}
			row[0] = t.ID
			row[10] = excelize.Cell{StyleID: money, Value: amount}
			cell, _ := excelize.CoordinatesToCellName(1, line)
			line++
			return sw.SetRow(cell, row)
		})
		if err == nil {
			err = sw.Flush()
		}
		if err != nil {
			fail(d, w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		w.Header().Set("Content-Disposition", `attachment; filename="`+exportName(d, "xlsx")+`"`)
		if _, err := book.WriteTo(w); err != nil {
			d.Logger.Error("transactions export", "request_id", RequestIDFrom(r.Context()), "err", err.Error())
		}
	})
}
