package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"recondesk/internal/app"
	"recondesk/internal/apperror"
	"recondesk/internal/auth"
	"recondesk/internal/faulty"
	"recondesk/internal/store"
	views "recondesk/views/faulty"
)

// batchID reads the {id} of a batch route; a non-UUID is a 404.
func batchID(r *http.Request) (string, error) {
	id := chi.URLParam(r, "id")
	if !store.IsBatchID(id) {
		return "", apperror.New(apperror.NotFound, "There is no batch at %s.", r.URL.Path)
	}
	return strings.ToLower(id), nil
}

func batchURL(id string) string { return "/faulty/batches/" + id }

func statusIsInput(err error) bool {
	switch apperror.CodeOf(err) {
	case apperror.Invalid, apperror.Conflict, apperror.Rule:
		return true
	}
	return false
}

func apperrorMessage(err error) string { return apperror.MessageOf(err) }

// itemFilterFrom reads the items table's filter from the query string.
func itemFilterFrom(r *http.Request) store.LadderItemFilter {
	return itemFilterOf(r.URL.Query())
}

// itemFilterOf reads the items filter and page cursor from form values.
func itemFilterOf(q url.Values) store.LadderItemFilter {
	f := store.LadderItemFilter{Reason: q.Get("reason"), Search: strings.TrimSpace(q.Get("q"))}
	if s := q.Get("state"); s == "open" || s == "resolved" {
		f.State = s
	}
	if n, err := strconv.ParseInt(q.Get("after"), 10, 64); err == nil && n > 0 {
		f.After = n
	} else if n, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil && n > 0 {
		f.Before = n
	}
	return f
}

// batchData loads everything the batch page shows.
func batchData(ctx context.Context, d Deps, r *http.Request, id string) (views.BatchData, error) {
	b, err := store.LoadLadderBatch(ctx, d.Pool, id)
	if err != nil {
		return views.BatchData{}, err
	}
	policy, now := faultyPolicy(d), d.Now()
	u, _ := userFrom(ctx)
	data := views.BatchData{Batch: b, State: faulty.BatchState(policy, b.Facts, now), Timeline: faulty.Chronological(faulty.Timeline(policy, b.Facts, now)),
		Filter: itemFilterFrom(r), CanAct: u.Role.Allows(auth.Finance), Loc: displayTZ(d)}
	if due := faulty.Due(policy, b.Facts, now); len(due) > 0 {
		data.Next = views.LevelLabel(due[0].Level, 0)
	}
	if data.Page, err = store.LadderItemsPage(ctx, d.Pool, id, data.Filter, views.ItemsPerPage); err != nil {
		return data, err
	}
	data.Items = data.Page.Items
	if data.Reasons, err = store.LadderReasons(ctx, d.Pool, id); err != nil {
		return data, err
	}
	if data.Emails, err = store.FaultyEmailsByBatch(ctx, d.Pool, id); err != nil {
		return data, err
	}
	if data.MasterFiles, err = store.LadderMasterFiles(ctx, d.Pool, id); err != nil {
		return data, err
	}
	// Partner replies: the conversation, responses, disputes (handle_inbox.go).
	data.Inbox, err = inboxBatchPanel(ctx, d, b, data.Emails, data.CanAct)
	return data, err
}

// handleFaultyBatch is the batch page: timeline, actions, thread, items, master files.
func handleFaultyBatch(d Deps) http.Handler { return batchPage(d, views.BatchBody) }

// handleFaultyBatchItems is the filtered items table: the fragment for
// htmx, the whole batch page otherwise.
func handleFaultyBatchItems(d Deps) http.Handler { return batchPage(d, views.Items) }

// pushItemsURL keeps the filter and page of an htmx items request in the
// browser's address bar as the batch page's own URL.
func pushItemsURL(w http.ResponseWriter, r *http.Request, id string) {
	if !isHTMX(r) || !strings.HasSuffix(r.URL.Path, "/items") {
		return
	}
	u := batchURL(id)
	if q := r.URL.Query().Encode(); q != "" {
		u += "?" + q
	}
	w.Header().Set("HX-Push-Url", u)
}

// batchPage renders the whole batch page, or fragment for htmx requests.
func batchPage(d Deps, fragment func(views.BatchData) templ.Component) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := batchID(r)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		data, err := batchData(r.Context(), d, r, id)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		pushItemsURL(w, r, id)
		title := data.Batch.PartyID + " " + data.Batch.Period.String()
		render(w, r, http.StatusOK, views.BatchPage(shellFor(d, r, title, "Faulty bookings"), data), fragment(data))
	})
}

// handleFaultyRunNow decides the batch's due ladder step now (what the
// next tick would do for this one batch: one email at most).
func handleFaultyRunNow(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := batchID(r)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		u, _ := userFrom(r.Context())
		step, err := d.App.RunBatchNow(r.Context(), app.User(u.ID), id)
		if err != nil {
			ladderFail(d, w, r, batchURL(id), err)
			return
		}
		flash(d, r, "success", fmt.Sprintf("%s queued for sending.", views.LevelLabel(step.Level, 0)))
		redirect(w, r, batchURL(id))
	})
}

// handleFaultyEscalate re-escalates a batch with a note.
func handleFaultyEscalate(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := batchID(r)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		u, _ := userFrom(r.Context())
		e, err := d.App.Reescalate(r.Context(), app.User(u.ID), id, r.PostFormValue("note"), time.Time{})
		if err != nil {
			ladderFail(d, w, r, batchURL(id), err)
			return
		}
		flash(d, r, "success", fmt.Sprintf("Re-escalation queued: message %d of the thread, escalation contacts in CC.", e.Seq))
		redirect(w, r, batchURL(id))
	})
}

// resolvedMessage is the flash after resolving.
func resolvedMessage(res app.Resolved) string {
	msg := fmt.Sprintf("%d booking(s) resolved.", res.Items)
	if res.Closing != nil {
		msg += " Every booking is resolved: the closing message is queued."
	}
	return msg
}

// handleFaultyResolveItems resolves open items with a note: the ticked ones,
// every one on the page ("page"), or every open one matching the filter
// ("scope=matching", chosen server-side; needs "confirm").
func handleFaultyResolveItems(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := batchID(r)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		if err := r.ParseForm(); err != nil {
			fail(d, w, r, apperror.New(apperror.Invalid, "The form could not be read; reload the page and try again."))
			return
		}
		u, _ := userFrom(r.Context())
		back := batchURL(id)
		if q := itemFilterQuery(r.PostForm); q != "" {
			back += "?" + q
		}
		var res app.Resolved
		if r.PostFormValue("scope") == "matching" {
			if r.PostFormValue("confirm") != "yes" {
				ladderFail(d, w, r, back, apperror.New(apperror.Invalid, "Tick the confirmation to resolve every open booking matching the filter."))
				return
			}
			res, err = d.App.ResolveMatching(r.Context(), app.User(u.ID), id, itemFilterOf(r.PostForm), r.PostFormValue("note"))
		} else {
			field := "item"
			if r.PostFormValue("page") == "1" {
				field = "page_item"
			}
			var ids []int64
			for _, v := range r.PostForm[field] {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n <= 0 {
					ladderFail(d, w, r, back, apperror.New(apperror.Invalid, "%q is not a booking id; select bookings in the table.", v))
					return
				}
				ids = append(ids, n)
			}
			if len(ids) == 0 {
				ladderFail(d, w, r, back, apperror.New(apperror.Invalid, "Select at least one open booking to resolve (or use Resolve batch)."))
				return
			}
			res, err = d.App.ResolveItems(r.Context(), app.User(u.ID), id, ids, r.PostFormValue("note"))
		}
		if err != nil {
			ladderFail(d, w, r, back, err)
			return
		}
		flash(d, r, "success", resolvedMessage(res))
		redirect(w, r, back)
	})
}

// itemFilterQuery is the filter part (state, reason, q) of form values as a query string.
func itemFilterQuery(v url.Values) string {
	q := url.Values{}
	for _, k := range []string{"state", "reason", "q"} {
		if s := strings.TrimSpace(v.Get(k)); s != "" {
			q.Set(k, s)
		}
	}
	return q.Encode()
}

// handleFaultyResolveBatch resolves every open item of the batch with a note.
func handleFaultyResolveBatch(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := batchID(r)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		u, _ := userFrom(r.Context())
		res, err := d.App.ResolveBatch(r.Context(), app.User(u.ID), id, r.PostFormValue("note"))
		if err != nil {
			ladderFail(d, w, r, batchURL(id), err)
			return
		}
		flash(d, r, "success", fmt.Sprintf("Batch resolved: %d booking(s).", res.Items))
		redirect(w, r, batchURL(id))
	})
}

// handleFaultyMasterFile downloads one master file version.
func handleFaultyMasterFile(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := batchID(r)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		version, err := strconv.Atoi(chi.URLParam(r, "version"))
		if err != nil || version < 1 {
			fail(d, w, r, apperror.New(apperror.NotFound, "There is no master file version at %s.", r.URL.Path))
			return
		}
		b, err := store.LoadLadderBatch(r.Context(), d.Pool, id)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		m, data, err := store.LadderMasterFileData(r.Context(), d.Pool, id, version)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		name := views.AttachmentName(b.PartyID, b.Period.String(), m.Version)
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Header().Set("X-Content-SHA256", m.SHA256)
		_, _ = w.Write(data)
	})
}

// emailAction runs a staff action on an unknown or failed email (app.MarkSent / app.Resend).
func emailAction(d Deps, resend bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			fail(d, w, r, err)
			return
		}
		u, _ := userFrom(r.Context())
		action := d.App.MarkSent
		if resend {
			action = d.App.Resend
		}
		after, err := action(r.Context(), app.User(u.ID), id, r.PostFormValue("note"))
		if err != nil {
			back := ""
			if e, lerr := store.FaultyEmailByID(r.Context(), d.Pool, id); lerr == nil {
				back = batchURL(e.BatchID)
			}
			ladderFail(d, w, r, back, err)
			return
		}
		if resend {
			flash(d, r, "success", "Email queued to be sent again with the same Message-ID.")
		} else {
			flash(d, r, "success", "Email marked as sent.")
		}
		redirect(w, r, batchURL(after.BatchID))
	})
}

// handleFaultyEmailMarkSent records that an unknown email did arrive (note required).
func handleFaultyEmailMarkSent(d Deps) http.Handler { return emailAction(d, false) }

// handleFaultyEmailResend sends an unknown or failed email again, same Message-ID.
func handleFaultyEmailResend(d Deps) http.Handler { return emailAction(d, true) }
