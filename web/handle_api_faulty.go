package web

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/apperror"
	"recondesk/internal/faulty"
	"recondesk/internal/jobs"
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
	l, now := ladder(d), d.Now()
	late := lateSteps(l.Policy, b.Facts, now)
	if late == nil {
		late = []string{}
	}
	return apiBatch{ID: b.ID, PartyID: b.PartyID, Partner: b.PartnerName, Period: b.Period.String(),
		State: faulty.BatchState(l.Policy, b.Facts, now), Open: b.Facts.Open, Resolved: b.Facts.Resolved,
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
		l := ladder(d)
		var steps []apiStep
		for _, v := range faulty.Timeline(l.Policy, b.Facts, d.Now()) {
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
		e, err := jobs.EscalateBatch(r.Context(), jobs.EscalateRun{Pool: d.Pool, Client: d.River, Ladder: ladder(d), BatchID: id,
			Note: note, Actor: store.UserActor(u.ID), Now: d.Now(), Metrics: d.Metrics})
		if err != nil {
			fail(d, w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"email": e})
	})
}

// handleAPIFaultyIngest enqueues the ingestion of a period (JSON or form
// field "period") → 202 with the job id; audited.
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
		if d.River == nil {
			fail(d, w, r, apperror.New(apperror.Unavailable, "The job queue is not available; try again shortly."))
			return
		}
		u, _ := userFrom(r.Context())
		var jobID int64
		err = store.InTx(r.Context(), d.Pool, func(tx pgx.Tx) error {
			res, err := d.River.InsertTx(r.Context(), tx, jobs.FaultyPhaseArgs{Period: p.String(), Phase: string(faulty.PhaseIngestion), Trigger: "api"}, nil)
			if err != nil {
				return err
			}
			jobID = res.Job.ID
			return store.Audit(r.Context(), tx, store.UserActor(u.ID), "faulty_period.run_now", "faulty_period", p.String(), nil,
				map[string]any{"phase": faulty.PhaseIngestion, "job_id": jobID, "via": "api"}, "")
		})
		if err != nil {
			fail(d, w, r, err)
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]any{"job_id": jobID, "period": p.String(), "phase": faulty.PhaseIngestion, "status": "queued"})
	})
}
