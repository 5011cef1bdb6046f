package web

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/xuri/excelize/v2"

	"recondesk/internal/apperror"
	"recondesk/internal/auth"
	"recondesk/internal/masterfile"
	"recondesk/internal/store"
	"recondesk/views/ezpass"
	"recondesk/web/query"
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
	var err error
	if f.From, err = query.Date(form.From, tz, false); err != nil {
		errs["from"] = apperror.MessageOf(err)
	}
	if f.To, err = query.Date(form.To, tz, true); err != nil {
		errs["to"] = apperror.MessageOf(err)
	}
	if f.ImportID, err = query.ID(form.Import, "12"); err != nil {
		errs["import"] = "Enter an import number like 12."
	}
	if f.Limit, err = query.Limit(form.Limit, 500); err != nil {
		errs["limit"] = apperror.MessageOf(err)
	}
	for name, v := range map[string]*string{"agency": &f.Agency, "vehicle": &f.Vehicle, "driver": &f.Driver, "medallion": &f.Medallion} {
		if *v, err = query.Text(name, *v); err != nil {
			errs[name] = apperror.MessageOf(err)
		}
	}
	if f.Cursor, err = query.Cursor(f.Cursor); err != nil {
		errs["cursor"] = apperror.MessageOf(err)
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
		q := r.URL.Query()
		if !q.Has("desc") && ezpass.DefaultDesc(q.Get("sort")) {
			q.Set("desc", "1") // the page lists newest first unless told otherwise
		}
		f, form, errs := parseTxnFilter(q, d.Config.EZPassTZ)
		u, _ := userFrom(r.Context())
		data := ezpass.TxnsData{Form: form, Errors: errs, First: f.Cursor == "", CanExport: u.Role.Allows(auth.Finance), TZ: displayTZ(d)}
		status := http.StatusOK
		if len(errs) == 0 {
			page, err := store.ListEZPassTxns(r.Context(), d.Pool, f)
			if err != nil {
				fail(d, w, r, err)
				return
			}
			data.Page = page
			data.First = page.PrevCursor == ""
			if f.Cursor == "" && page.NextCursor == "" {
				// The first page holds every match: that is the count.
				data.Count = store.Count{N: int64(len(page.Txns)), Exact: true}
			} else if data.Count, err = store.CountEZPassTxns(r.Context(), d.Pool, f); err != nil {
				fail(d, w, r, err)
				return
			}
		} else {
			status = http.StatusBadRequest
		}
		render(w, r, status, ezpass.TxnsPage(shellFor(d, r, "E-ZPass transactions", "E-ZPass"), data), ezpass.TxnsContent(data))
	})
}

// displayTZ is the zone times are shown in (DISPLAY_TZ).
func displayTZ(d Deps) *time.Location {
	if d.Config.DisplayTZ != nil {
		return d.Config.DisplayTZ
	}
	return d.Config.EZPassTZ
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
		data := ezpass.TxnData{T: t, TZ: displayTZ(d)}
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

// exportWidths are the widths of the exportHeader columns in the XLSX export.
var exportWidths = []float64{9, 14, 16, 20, 18, 14, 10, 18, 18, 7, 11, 10, 12, 30, 20, 14, 22, 12, 11, 14, 8}

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
		// Nothing reaches the client until the csv writer's buffer first
		// fills, so an early failure (the query itself) is a proper error
		// status; a failure after that aborts the response.
		out := &countingWriter{w: w}
		cw := csv.NewWriter(out)
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+exportName(d, "csv")+`"`)
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
		if err != nil {
			exportFailed(d, w, r, err, out.n > 0)
			return
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			exportFailed(d, w, r, err, true)
		}
	})
}

// countingWriter counts the bytes handed to the response.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// exportFailed makes a failed export visible: an error status while nothing
// was sent yet, otherwise an aborted response (the client sees an
// incomplete transfer, never a clean end of a truncated file). Logged.
func exportFailed(d Deps, w http.ResponseWriter, r *http.Request, err error, started bool) {
	if !started {
		fail(d, w, r, err)
		return
	}
	d.Logger.Error("transactions export aborted mid-stream", "request_id", RequestIDFrom(r.Context()), "route", r.URL.Path, "err", err.Error())
	panic(http.ErrAbortHandler)
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
		date, err := masterfile.NewDateStyle(book)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		bold, err := book.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
		if err != nil {
			fail(d, w, r, err)
			return
		}
		if err := masterfile.TableLayout(sw, exportWidths); err != nil {
			fail(d, w, r, err)
			return
		}
		head := make([]any, len(exportHeader))
		for i, h := range exportHeader {
			head[i] = excelize.Cell{StyleID: bold, Value: h}
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
			row[3] = masterfile.DateCell(t.TxnAt, d.Config.EZPassTZ, date)
			row[10] = excelize.Cell{StyleID: money, Value: amount}
			cell, _ := excelize.CoordinatesToCellName(1, line)
			line++
			return sw.SetRow(cell, row)
		})
		if err == nil {
			err = masterfile.AutoFilter(book, sw, len(exportHeader), line-2)
		}
		if err == nil {
			err = sw.Flush()
		}
		if err != nil {
			fail(d, w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		w.Header().Set("Content-Disposition", `attachment; filename="`+exportName(d, "xlsx")+`"`)
		out := &countingWriter{w: w}
		if _, err := book.WriteTo(out); err != nil {
			exportFailed(d, w, r, err, out.n > 0)
		}
	})
}
