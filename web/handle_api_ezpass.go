package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"recondesk/internal/apperror"
	"recondesk/internal/store"
)

// handleAPIImportCreate takes a multipart upload ("file", optional
// "account") and answers 202 with the queued import.
func handleAPIImportCreate(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up, err := receiveUpload(d, w, r)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		defer up.Close()
		imp, err := startImport(d, r, up)
		var dup *store.DuplicateImportError
		if errors.As(err, &dup) {
			writeJSON(w, http.StatusConflict, map[string]any{"error": map[string]any{
				"code": string(apperror.Conflict), "message": dup.Error(),
				"import_id": dup.Existing.ID, "url": fmt.Sprintf("/api/ezpass/imports/%d", dup.Existing.ID),
			}})
			return
		}
		if err != nil {
			fail(d, w, r, err)
			return
		}
		w.Header().Set("Location", fmt.Sprintf("/api/ezpass/imports/%d", imp.ID))
		writeJSON(w, http.StatusAccepted, map[string]any{"id": imp.ID, "status": imp.Status,
			"url": fmt.Sprintf("/api/ezpass/imports/%d", imp.ID)})
	})
}

func handleAPIImport(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		imp, err := importByPath(d, r)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		s := imp.Summary()
		if !imp.Active() {
			out, err := store.EZPassImportOutcomesOf(r.Context(), d.Pool, imp)
			if err != nil {
				fail(d, w, r, err)
				return
			}
			s.Outcomes = &out
		}
		writeJSON(w, http.StatusOK, s)
	})
}

// apiTxn is a transaction as the API returns it.
type apiTxn struct {
	ID          int64            `json:"id"`
	Account     string           `json:"account"`
	LaneTxnID   string           `json:"lane_txn_id,omitempty"`
	Kind        string           `json:"kind"`
	Status      string           `json:"status"`
	Reason      string           `json:"reason,omitempty"`
	Failure     *apiFailure      `json:"failure,omitempty"`
	TagOrPlate  string           `json:"tag_or_plate"`
	Tag         string           `json:"tag,omitempty"`
	PlateState  string           `json:"plate_state,omitempty"`
	Plate       string           `json:"plate,omitempty"`
	Agency      string           `json:"agency"`
	EntryPlaza  string           `json:"entry_plaza,omitempty"`
	ExitPlaza   string           `json:"exit_plaza,omitempty"`
	Class       string           `json:"class,omitempty"`
	TxnAt       time.Time        `json:"txn_at"`
	PostedOn    string           `json:"posted_on,omitempty"`
	AmountCents int64            `json:"amount_cents"`
	VehicleVIN  string           `json:"vehicle_vin,omitempty"`
	LeaseID     int64            `json:"lease_id,omitempty"`
	LeaseRef    string           `json:"lease_ref,omitempty"`
	Driver      *apiDriver       `json:"driver,omitempty"`
	Medallion   string           `json:"medallion,omitempty"`
	MatchMethod string           `json:"match_method,omitempty"`
	ImportID    int64            `json:"import_id"`
	Line        int              `json:"line"`
	ConflictOf  int64            `json:"conflict_of,omitempty"`
	Raw         json.RawMessage  `json:"raw,omitempty"`
	Journals    []apiJournalLink `json:"journals,omitempty"`
}

type apiFailure struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
}

type apiDriver struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	TLC  string `json:"tlc_license"`
}

type apiJournalLink struct {
	ID          int64     `json:"id"`
	Kind        string    `json:"kind"`
	Generation  int       `json:"generation"`
	PostedAt    time.Time `json:"posted_at"`
	Description string    `json:"description"`
}

func toAPITxn(t store.EZPassTxn) apiTxn {
	a := apiTxn{ID: t.ID, Account: t.Account, LaneTxnID: t.LaneTxnID, Kind: t.Kind, Status: t.Status, Reason: t.Reason(),
		TagOrPlate: t.TagOrPlate, Tag: t.Tag, PlateState: t.PlateState, Plate: t.Plate, Agency: t.Agency, EntryPlaza: t.EntryPlaza,
		ExitPlaza: t.ExitPlaza, Class: t.Class, TxnAt: t.TxnAt.UTC(), AmountCents: t.AmountCents, VehicleVIN: t.VIN,
		LeaseID: t.LeaseID, LeaseRef: t.LeaseRef, Medallion: t.Medallion, MatchMethod: t.MatchMethod, ImportID: t.ImportID,
		Line: t.Line, ConflictOf: t.ConflictOf, Raw: t.Raw}
	if t.PostedOn != nil {
		a.PostedOn = t.PostedOn.Format("2006-01-02")
	}
	if t.FailureCode != "" {
		a.Failure = &apiFailure{Code: t.FailureCode, Message: t.FailureMessage, Hint: t.FailureHint}
	}
	if t.DriverID != 0 {
		a.Driver = &apiDriver{ID: t.DriverID, Name: t.DriverName, TLC: t.DriverTLC}
	}
	return a
}

// handleAPITxns lists transactions with the page's filters, a cursor and
// a limit; next_cursor is empty on the last page.
func handleAPITxns(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, _, errs := parseTxnFilter(r.URL.Query(), d.Config.EZPassTZ)
		if len(errs) > 0 {
			fail(d, w, r, apperror.FieldErrors(errs))
			return
		}
		page, err := store.ListEZPassTxns(r.Context(), d.Pool, f)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		out := make([]apiTxn, len(page.Txns))
		for i, t := range page.Txns {
			out[i] = toAPITxn(t)
		}
		writeJSON(w, http.StatusOK, map[string]any{"transactions": out, "next_cursor": page.NextCursor})
	})
}

func handleAPITxn(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := txnByPath(d, r)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		js, err := store.JournalsForSource(r.Context(), d.Pool, "EZPASS", strconv.FormatInt(t.ID, 10))
		if err != nil {
			fail(d, w, r, err)
			return
		}
		a := toAPITxn(t)
		for _, j := range js {
			a.Journals = append(a.Journals, apiJournalLink{ID: j.ID, Kind: j.Kind, Generation: j.Generation, PostedAt: j.PostedAt, Description: j.Description})
		}
		writeJSON(w, http.StatusOK, a)
	})
}
