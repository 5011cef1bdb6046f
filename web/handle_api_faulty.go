package web

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"recondesk/internal/app"
	"recondesk/internal/apperror"
	"recondesk/internal/faulty"
	"recondesk/internal/store"
)

// apiBatch is a batch in the JSON API.
type apiBatch struct {
	ID         string             `json:"id"`
	PartyID    string             `json:"party_id"`
	Partner    string             `json:"partner"`
	Period     string             `json:"period"`
	State      faulty.BatchStatus `json:"state"`
	Open       int                `json:"open"`
	Resolved   int                `json:"resolved"`
	Emails     int                `json:"emails"`
	Late       []string           `json:"late"`
	ResolvedAt *time.Time         `json:"resolved_at"`
}

// apiStep is one timeline step in the JSON API.
type apiStep struct {
	Phase    faulty.Phase `json:"phase"`
	Level    faulty.Level `json:"level,omitempty"`
	State    faulty.State `json:"state"`
	Start    *time.Time   `json:"start,omitempty"`
	Deadline *time.Time   `json:"deadline,omitempty"`
	Done     *time.Time   `json:"done,omitempty"`
}

// apiItem is a booking of a batch in the JSON API.
type apiItem struct {
	ID           int64      `json:"id"`
	AuthRef      string     `json:"auth_ref"`
	State        string     `json:"state"`
	Resolution   string     `json:"resolution,omitempty"`
	ResolvedAt   *time.Time `json:"resolved_at,omitempty"`
	StationID    string     `json:"station_id"`
	StationName  string     `json:"station_name"`
	Start        *time.Time `json:"start"`
	EnergyKWh    string     `json:"energy_kwh"`
	FaultReasons []string   `json:"fault_reasons"`
}

func toAPIBatch(d Deps, b store.LadderBatch) apiBatch {
	policy, now := faultyPolicy(d), d.Now()
	late := lateSteps(policy, b.Facts, now)
	if late == nil {
		late = []string{}
	}
	return apiBatch{ID: b.ID, PartyID: b.PartyID, Partner: b.PartnerName, Period: b.Period.String(),
		State: faulty.BatchState(policy, b.Facts, now), Open: b.Facts.Open, Resolved: b.Facts.Resolved,
		Emails: len(b.Emails), Late: late, ResolvedAt: b.ResolvedAt}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// handleAPIFaultyBatches lists batches, optionally of one period.
func handleAPIFaultyBatches(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		period := r.URL.Query().Get("period")
		if period != "" {
			if _, err := faulty.ParsePeriod(period); err != nil {
				fail(d, w, r, apperror.New(apperror.Invalid, "period=%q is not of the form YYYY-MM, e.g. 2026-01.", period))
				return
			}
		}
		bs, err := store.LoadLadderBatches(r.Context(), d.Pool, store.LadderFilter{Period: period})
		if err != nil {
			fail(d, w, r, err)
			return
		}
		out := make([]apiBatch, 0, len(bs))
		for _, b := range bs {
			out = append(out, toAPIBatch(d, b))
		}
		writeJSON(w, http.StatusOK, map[string]any{"batches": out})
	})
}

// handleAPIFaultyBatch returns one batch with its timeline, items and emails.
func handleAPIFaultyBatch(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := batchID(r)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		b, err := store.LoadLadderBatch(r.Context(), d.Pool, id)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		items, err := store.LadderItems(r.Context(), d.Pool, id, store.LadderItemFilter{Limit: 100000})
		if err != nil {
			fail(d, w, r, err)
			return
		}
		emails, err := store.FaultyEmailsByBatch(r.Context(), d.Pool, id)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		var steps []apiStep
		for _, v := range faulty.Timeline(faultyPolicy(d), b.Facts, d.Now()) {
			steps = append(steps, apiStep{Phase: v.Phase, Level: v.Level, State: v.State, Start: timePtr(v.Start), Deadline: timePtr(v.Deadline), Done: timePtr(v.Done)})
		}
		apiItems := make([]apiItem, 0, len(items))
		for _, it := range items {
			ai := apiItem{ID: it.ID, AuthRef: it.AuthRef, State: it.State, Resolution: it.Resolution, ResolvedAt: it.ResolvedAt,
				StationID: it.StationID, StationName: it.StationName, Start: it.Start, FaultReasons: it.FaultReasons}
			if it.Energy != nil {
				ai.EnergyKWh = it.Energy.KWh()
			}
			apiItems = append(apiItems, ai)
		}
		if emails == nil {
			emails = []store.FaultyEmail{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"batch": toAPIBatch(d, b), "timeline": steps, "items": apiItems, "emails": emails})
	})
}

// formOrJSON reads a string field from a JSON object body or a form.
func formOrJSON(r *http.Request, field string) (string, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/json" {
		return strings.TrimSpace(r.PostFormValue(field)), nil
	}
	var body map[string]any
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil && err != io.EOF {
		return "", apperror.New(apperror.Invalid, "The body is not a JSON object: send {\"%s\": \"...\"}.", field)
	}
	v, _ := body[field].(string)
	return strings.TrimSpace(v), nil
}

// handleAPIFaultyEscalate re-escalates a batch (note required) → 201 with the email.
func handleAPIFaultyEscalate(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := batchID(r)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		note, err := formOrJSON(r, "note")
		if err != nil {
			fail(d, w, r, err)
			return
		}
		u, _ := userFrom(r.Context())
		e, err := d.App.Reescalate(r.Context(), app.User(u.ID), id, note, time.Time{})
		if err != nil {
			fail(d, w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"email": e})
	})
}

// handleAPIFaultyResolve resolves items of a batch (JSON {"items": [ids], "note": "..."}; no
// items means every open item) → 200 with what was resolved and whether the closing message
// was queued.
func handleAPIFaultyResolve(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := batchID(r)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		var body struct {
			Items []int64 `json:"items"`
			Note  string  `json:"note"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil && err != io.EOF {
			fail(d, w, r, apperror.New(apperror.Invalid, "The body is not a JSON object: send {\"items\": [1, 2], \"note\": \"...\"}."))
			return
		}
		u, _ := userFrom(r.Context())
		var res app.Resolved
		if len(body.Items) == 0 {
			res, err = d.App.ResolveBatch(r.Context(), app.User(u.ID), id, body.Note)
		} else {
			res, err = d.App.ResolveItems(r.Context(), app.User(u.ID), id, body.Items, body.Note)
		}
		if err != nil {
			fail(d, w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	})
}

// handleAPIFaultyIngest queues the ingestion of a period (JSON or form field "period") as the
// same unique job as the UI's Run now → 202 with the job id; repeated calls while it waits or
// runs queue nothing and answer with that job.
func handleAPIFaultyIngest(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		period, err := formOrJSON(r, "period")
		if err != nil {
			fail(d, w, r, err)
			return
		}
		p, err := faulty.ParsePeriod(period)
		if err != nil {
			fail(d, w, r, apperror.New(apperror.Invalid, "%q is not a period: send period as YYYY-MM, like 2026-10.", period))
			return
		}
		u, _ := userFrom(r.Context())
		q, err := d.App.RequestPhase(r.Context(), app.PhaseRequest{Period: p, Phase: faulty.PhaseIngestion, Actor: app.User(u.ID), Via: "api"})
		if err != nil {
			fail(d, w, r, err)
			return
		}
		writeJSON(w, http.StatusAccepted, q)
	})
}
