package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"recondesk/internal/apperror"
	"recondesk/internal/auth"
	"recondesk/internal/jobs"
	"recondesk/internal/store"
	"recondesk/views/failures"
	"recondesk/web/query"
)

const failuresPageSize = 100

func handleFailures(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := userFrom(r.Context())
		code, err := query.Text("code", r.URL.Query().Get("code"))
		if err != nil {
			fail(d, w, r, err)
			return
		}
		after, err := query.After(r.URL.Query().Get("after"))
		if err != nil {
			fail(d, w, r, err)
			return
		}
		groups, err := store.FailureGroups(r.Context(), d.Pool)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		rows, err := store.FailedTxns(r.Context(), d.Pool, code, after, failuresPageSize+1)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		data := failures.QueueData{Groups: groups, Code: code, Rows: rows, CanAct: u.Role.Allows(auth.Finance), TZ: d.Config.EZPassTZ}
		if len(rows) > failuresPageSize {
			data.Rows = rows[:failuresPageSize]
			data.Next = data.Rows[len(data.Rows)-1].ID
		}
		render(w, r, http.StatusOK, failures.QueuePage(shellFor(d, r, "E-ZPass failures", "E-ZPass"), data), failures.Queue(data))
	})
}

// parseIDs reads toll ids from repeated or comma-separated "ids" values.
func parseIDs(values []string) ([]int64, error) {
	var ids []int64
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil || id <= 0 {
				return nil, apperror.New(apperror.Invalid, "%q is not a toll id; select tolls in the failures queue.", s)
			}
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, apperror.New(apperror.Invalid, "Select at least one toll in the failures queue.")
	}
	if len(ids) > 500 {
		return nil, apperror.New(apperror.Invalid, "Assign at most 500 tolls at a time.")
	}
	return ids, nil
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = itoa(id)
	}
	return strings.Join(s, ",")
}

// assignData loads the tolls and the lease choices of the Assign form: a
// search by q, else the leases of the first toll's matched vehicle.
func assignData(d Deps, r *http.Request, ids []int64, q string) (failures.AssignData, error) {
	data := failures.AssignData{IDs: joinIDs(ids), Q: q, TZ: d.Config.EZPassTZ, Errors: map[string]string{}}
	for _, id := range ids {
		t, err := store.TxnForAssign(r.Context(), d.Pool, id)
		if err != nil {
			return data, err
		}
		data.Txns = append(data.Txns, t)
	}
	at, vehicle := data.Txns[0].TxnAt, data.Txns[0].VehicleID
	leases, err := store.SearchLeases(r.Context(), d.Pool, strings.TrimSpace(q), vehicle, at)
	data.Leases = leases
	return data, err
}

func handleAssignForm(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ids, err := parseIDs(r.URL.Query()["ids"])
		if err != nil {
			fail(d, w, r, err)
			return
		}
		data, err := assignData(d, r, ids, r.URL.Query().Get("q"))
		if err != nil {
			fail(d, w, r, err)
			return
		}
		render(w, r, http.StatusOK, failures.AssignPage(shellFor(d, r, "Assign tolls", "E-ZPass"), data), failures.AssignForm(data))
	})
}

// assignRequest is a manual assignment from the form or the API.
type assignRequest struct {
	IDs      []int64
	LeaseID  int64  `json:"lease_id"`
	DriverID int64  `json:"driver_id"`
	Reason   string `json:"reason"`
}

// Validate returns a message per invalid field.
func (in assignRequest) Validate() map[string]string {
	errs := map[string]string{}
	if in.LeaseID <= 0 {
		errs["choice"] = "Choose a lease and a driver."
	}
	if strings.TrimSpace(in.Reason) == "" {
		errs["reason"] = "Say why you assign this toll by hand; the reason is kept in the audit log."
	}
	return errs
}

// assign writes a manual assignment and, when tolls now wait for posting
// and auto-posting is on, enqueues posting in the same transaction.
func assign(d Deps, r *http.Request, in assignRequest) (store.AssignResult, error) {
	u, _ := userFrom(r.Context())
	var res store.AssignResult
	err := store.InTx(r.Context(), d.Pool, func(tx pgx.Tx) error {
		var err error
		res, err = store.Assign(r.Context(), tx, store.AssignInput{TxnIDs: in.IDs, LeaseID: in.LeaseID, DriverID: in.DriverID,
			Reason: in.Reason, Actor: store.UserActor(u.ID)}, d.Config.EZPassTZ)
		if err != nil {
			return err
		}
		if res.ToPost > 0 && d.Config.EZPassAutoPost && d.River != nil {
			_, err = d.River.InsertTx(r.Context(), tx, jobs.EZPassPostArgs{Trigger: "manual assignment"}, nil)
		}
		return err
	})
	return res, err
}

func handleAssign(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			fail(d, w, r, apperror.New(apperror.Invalid, "The form could not be read; reload the page and try again."))
			return
		}
		ids, err := parseIDs(r.PostForm["ids"])
		if err != nil {
			fail(d, w, r, err)
			return
		}
		in := assignRequest{IDs: ids, Reason: r.PostFormValue("reason")}
		choice := r.PostFormValue("choice")
		if l, dr, ok := strings.Cut(choice, ":"); ok {
			in.LeaseID, _ = strconv.ParseInt(l, 10, 64)
			in.DriverID, _ = strconv.ParseInt(dr, 10, 64)
		}
		rerender := func(status int, errs map[string]string, msg string) {
			data, err := assignData(d, r, ids, r.PostFormValue("q"))
			if err != nil {
				fail(d, w, r, err)
				return
			}
			data.Choice, data.Reason, data.Errors, data.Message = choice, in.Reason, errs, msg
			render(w, r, status, failures.AssignPage(shellFor(d, r, "Assign tolls", "E-ZPass"), data), failures.AssignForm(data))
		}
		if errs := in.Validate(); len(errs) > 0 {
			rerender(http.StatusUnprocessableEntity, errs, "")
			return
		}
		res, err := assign(d, r, in)
		switch {
		case err == nil:
		case apperror.CodeOf(err) == apperror.Rule || apperror.CodeOf(err) == apperror.Invalid:
			rerender(http.StatusUnprocessableEntity, map[string]string{}, apperror.MessageOf(err))
			return
		default:
			fail(d, w, r, err)
			return
		}
		msg := fmt.Sprintf("%d toll(s) assigned.", res.Assigned)
		if res.Reposted > 0 {
			msg += fmt.Sprintf(" %d posted toll(s) reversed and posted to the new driver.", res.Reposted)
		}
		if res.ToPost > 0 && d.Config.EZPassAutoPost {
			msg += " Posting has been queued."
		}
		flash(d, r, "success", msg)
		redirect(w, r, "/ezpass/failures")
	})
}

func associationRun(d Deps, r *http.Request) jobs.AssociationRun {
	u, _ := userFrom(r.Context())
	return jobs.AssociationRun{Pool: d.Pool, TZ: d.Config.EZPassTZ, AutoPost: d.Config.EZPassAutoPost, Client: d.River,
		Actor: store.UserActor(u.ID), Trigger: "on demand", Metrics: d.Metrics}
}

func handleAssociateNow(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := jobs.RunAssociation(r.Context(), associationRun(d, r))
		if err != nil {
			fail(d, w, r, err)
			return
		}
		flash(d, r, "success", fmt.Sprintf("Association: %d of %d tolls matched (%d by tag, %d by plate); %d no vehicle, %d no active lease, %d no driver.",
			c.Associated(), c.Candidates, c.ByTag, c.ByPlate, c.Failed[store.FailNoVehicle], c.Failed[store.FailNoActiveLease], c.Failed[store.FailNoDriver]))
		redirect(w, r, "/ezpass/failures")
	})
}

func handlePostNow(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := userFrom(r.Context())
		c, err := jobs.RunPosting(r.Context(), d.Pool, store.UserActor(u.ID), "on demand", d.Metrics)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		failed := 0
		for _, n := range c.Failed {
			failed += n
		}
		flash(d, r, "success", fmt.Sprintf("Posting: %d tolls posted (%d journals written), %d failed.", c.Posted, c.JournalsInserted, failed))
		redirect(w, r, "/ledger")
	})
}

func handleAPIAssociate(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := jobs.RunAssociation(r.Context(), associationRun(d, r))
		if err != nil {
			fail(d, w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, c)
	})
}

func handleAPIPost(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := userFrom(r.Context())
		c, err := jobs.RunPosting(r.Context(), d.Pool, store.UserActor(u.ID), "api", d.Metrics)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, c)
	})
}

// handleAPIAssign is PUT /api/ezpass/transactions/{id}: lease_id, driver_id, reason.
func handleAPIAssign(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			fail(d, w, r, err)
			return
		}
		var in assignRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			fail(d, w, r, apperror.New(apperror.Invalid, "Send JSON like {\"lease_id\": 12, \"driver_id\": 34, \"reason\": \"...\"}: %v.", err))
			return
		}
		in.IDs = []int64{id}
		if errs := in.Validate(); len(errs) > 0 {
			if m, ok := errs["choice"]; ok {
				delete(errs, "choice")
				errs["lease_id"] = m
			}
			fail(d, w, r, apperror.FieldErrors(errs))
			return
		}
		res, err := assign(d, r, in)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		t, err := store.TxnForAssign(r.Context(), d.Pool, id)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "status": t.Status, "lease_id": in.LeaseID, "driver_id": in.DriverID,
			"reposted": res.Reposted > 0, "txn_at": t.TxnAt.Format(time.RFC3339)})
	})
}

// ezpassMatchPageRoutes registers the failures queue, manual assignment,
// association and posting buttons, the Ledger and the fleet pages.
func ezpassMatchPageRoutes(r chi.Router, d Deps) {
	r.Group(func(r chi.Router) {
		r.Use(requireRole(d, auth.Viewer))
		r.Method(http.MethodGet, "/ezpass/failures", handleFailures(d))
		r.Method(http.MethodGet, "/ledger", handleLedger(d))
		r.Method(http.MethodGet, "/ledger/drivers/{id}", handleDriverStatement(d))
		r.Method(http.MethodGet, "/ledger/journals/{id}", handleJournal(d))
	})
	r.Group(func(r chi.Router) {
		r.Use(requireRole(d, auth.Finance))
		r.Method(http.MethodGet, "/ezpass/assign", handleAssignForm(d))
		r.Method(http.MethodPost, "/ezpass/assign", handleAssign(d))
		r.Method(http.MethodPost, "/ezpass/associate", handleAssociateNow(d))
		r.Method(http.MethodPost, "/ezpass/post", handlePostNow(d))
	})
	fleetRoutes(r, d)
}

// ezpassMatchAPIRoutes registers the manual-assignment, association and posting endpoints.
func ezpassMatchAPIRoutes(r chi.Router, d Deps) {
	r.Group(func(r chi.Router) {
		r.Use(apiAuth(d, auth.Finance))
		r.Method(http.MethodPut, "/ezpass/transactions/{id}", handleAPIAssign(d))
		r.Method(http.MethodPost, "/ezpass/associate", handleAPIAssociate(d))
		r.Method(http.MethodPost, "/ezpass/post", handleAPIPost(d))
	})
}
