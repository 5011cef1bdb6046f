package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"recondesk/internal/app"
	"recondesk/internal/apperror"
	"recondesk/internal/auth"
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
		runs, err := d.App.MatchRuns(r.Context())
		if err != nil {
			fail(d, w, r, err)
			return
		}
		data := failures.QueueData{Groups: groups, Code: code, Rows: rows, CanAct: u.Role.Allows(auth.Finance), TZ: displayTZ(d), Runs: runs}
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
	data := failures.AssignData{IDs: joinIDs(ids), Q: q, TZ: displayTZ(d), Errors: map[string]string{}}
	for _, id := range ids {
		t, err := store.TxnForAssign(r.Context(), d.Pool, id)
		if err != nil {
			return data, err
		}
		data.Txns = append(data.Txns, t)
	}
	at, vehicle := data.Txns[0].TxnAt, data.Txns[0].VehicleID
	q = strings.TrimSpace(q)
	leases, err := store.SearchLeases(r.Context(), d.Pool, q, vehicle, at)
	if err != nil {
		return data, err
	}
	if q == "" {
		leases = nearestLeases(leases, at)
	}
	data.Leases = leases
	// When nothing offered covers the toll time, say why: what the search
	// text names, and that vehicle's leases around the toll.
	if !anyCovers(leases) && (q != "" || vehicle > 0) {
		data.Explain, err = store.ExplainLeaseSearch(r.Context(), d.Pool, q, vehicle, at)
	}
	return data, err
}

// nearestLeases keeps the leases covering at or, when none does, the
// nearest one ending before at and the nearest one starting after it.
func nearestLeases(ls []store.LeaseChoice, at time.Time) []store.LeaseChoice {
	var covering []store.LeaseChoice
	var before, after *store.LeaseChoice
	for i := range ls {
		l := &ls[i]
		switch {
		case l.Covers:
			covering = append(covering, *l)
		case !l.From.After(at):
			if before == nil || l.To.After(before.To) {
				before = l
			}
		default:
			if after == nil || l.From.Before(after.From) {
				after = l
			}
		}
	}
	if len(covering) > 0 {
		return covering
	}
	var out []store.LeaseChoice
	for _, l := range []*store.LeaseChoice{before, after} {
		if l != nil {
			out = append(out, *l)
		}
	}
	return out
}

func anyCovers(ls []store.LeaseChoice) bool {
	for _, l := range ls {
		if l.Covers {
			return true
		}
	}
	return false
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
		data.Return = returnPath(r.URL.Query().Get("return"))
		render(w, r, http.StatusOK, failures.AssignPage(shellFor(d, r, "Assign tolls", "E-ZPass"), data), failures.AssignForm(data))
	})
}

// returnPath is the "return" parameter of the Assign form when it is a
// path on this site (query.SafeNext), else "" (back to the failures).
func returnPath(v string) string {
	if v == "" || query.SafeNext(v) != v {
		return ""
	}
	return v
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

// assign runs the Assign use case for the signed-in user.
func assign(d Deps, r *http.Request, in assignRequest) (store.AssignResult, error) {
	u, _ := userFrom(r.Context())
	return d.App.Assign(r.Context(), app.User(u.ID), app.AssignInput{TxnIDs: in.IDs, LeaseID: in.LeaseID, DriverID: in.DriverID, Reason: in.Reason})
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
			data.Return = returnPath(r.PostFormValue("return"))
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
		if res.ToPost > 0 && d.App.AutoPosts() {
			msg += " Posting has been queued."
		}
		flash(d, r, "success", msg)
		back := "/ezpass/failures"
		if p := returnPath(r.PostFormValue("return")); p != "" {
			back = p
		}
		redirect(w, r, back)
	})
}

// handleRuns is the association and posting panel alone (polled while a run is active).
func handleRuns(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isHTMX(r) {
			http.Redirect(w, r, "/ezpass/failures", http.StatusSeeOther)
			return
		}
		u, _ := userFrom(r.Context())
		runs, err := d.App.MatchRuns(r.Context())
		if err != nil {
			fail(d, w, r, err)
			return
		}
		panel := failures.Runs(runs, u.Role.Allows(auth.Finance), displayTZ(d))
		render(w, r, http.StatusOK, panel, panel)
	})
}

// requestRun queues a run with request (RequestAssociate or RequestPost)
// for the signed-in user.
type requestRun func(ctx context.Context, actor app.Actor, trigger string) (app.JobRequest, error)

// handleRunNow is a button that queues a run and goes back to the failures
// queue at once; the page shows the run's progress.
func handleRunNow(d Deps, what string, request requestRun) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := userFrom(r.Context())
		req, err := request(r.Context(), app.User(u.ID), "on demand")
		if err != nil {
			fail(d, w, r, err)
			return
		}
		if req.AlreadyQueued {
			flash(d, r, "info", fmt.Sprintf("%s is already queued or running (job #%d); this page shows when it finishes.", what, req.JobID))
		} else {
			flash(d, r, "success", fmt.Sprintf("%s queued (job #%d); this page shows when it finishes.", what, req.JobID))
		}
		redirect(w, r, "/ezpass/failures")
	})
}

// handleAPIRun queues a run and answers 202 with its job id at once.
func handleAPIRun(d Deps, request requestRun) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := userFrom(r.Context())
		req, err := request(r.Context(), app.User(u.ID), "api")
		if err != nil {
			fail(d, w, r, err)
			return
		}
		writeJSON(w, http.StatusAccepted, req)
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
