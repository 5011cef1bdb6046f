package web

import (
	"context"
	"net/http"
	"strings"

	"recondesk/internal/app"
	"recondesk/internal/apperror"
	"recondesk/internal/store"
	"recondesk/views/partners"
)

func handlePartners(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ps, err := store.ListPartners(r.Context(), d.Pool)
		if err == nil {
			err = store.MarkFailingRecipients(r.Context(), d.Pool, ps) // bounces (inbox)
		}
		if err != nil {
			fail(d, w, r, err)
			return
		}
		render(w, r, http.StatusOK, partners.ListPage(shellFor(d, r, "Partners", "Admin"), d.Mailbox, ps), partners.List(ps))
	})
}

// renderPartnerForm shows the create/edit form with its state.
func renderPartnerForm(d Deps, w http.ResponseWriter, r *http.Request, status int, f partners.Form) {
	title := "New partner"
	if f.ID != 0 {
		title = "Partner " + f.PartyID
		hist, err := store.ListAudit(r.Context(), d.Pool, store.AuditFilter{SubjectType: "partner", SubjectID: itoa(f.ID), Limit: 50})
		if err != nil {
			fail(d, w, r, err)
			return
		}
		f.History = hist
	}
	if f.PartyID != "" && f.UnknownRows == 0 {
		n, err := unknownRowsOf(r.Context(), d, f.PartyID)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		f.UnknownRows = n
	}
	render(w, r, status, partners.FormPage(shellFor(d, r, title, "Admin"), d.Mailbox, f), partners.FormBody(f))
}

func unknownRowsOf(ctx context.Context, d Deps, partyID string) (int, error) {
	byPeriod, err := store.PartnerUnknownRows(ctx, d.Pool, partyID)
	n := 0
	for _, c := range byPeriod {
		n += c
	}
	return n, err
}

func handlePartnerNew(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		renderPartnerForm(d, w, r, http.StatusOK, partners.Form{
			PartyID: strings.TrimSpace(q.Get("party_id")), Name: strings.TrimSpace(q.Get("name")), Active: true, Revalidate: true,
		})
	})
}

func handlePartnerEdit(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			fail(d, w, r, err)
			return
		}
		p, err := store.PartnerByID(r.Context(), d.Pool, id)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		f := partners.FormOf(p)
		f.Revalidate = true
		renderPartnerForm(d, w, r, http.StatusOK, f)
	})
}

// partnerForm reads the posted form and parses it; the map holds a message per invalid field.
func partnerForm(r *http.Request) (partners.Form, store.PartnerInput, map[string]string) {
	f := partners.Form{
		PartyID: strings.TrimSpace(r.PostFormValue("party_id")), Name: strings.TrimSpace(r.PostFormValue("name")),
		CredentialIDs: r.PostFormValue("credential_ids"), To: r.PostFormValue("to"), CC: r.PostFormValue("cc"),
		Escalation: r.PostFormValue("escalation"), Active: r.PostFormValue("active") == "1", Revalidate: r.PostFormValue("revalidate") == "1",
	}
	in := store.PartnerInput{PartyID: f.PartyID, Name: f.Name, Active: f.Active}
	errs := map[string]string{}
	var err error
	if in.CredentialIDs, err = store.ParseCredentialIDs(f.CredentialIDs); err != nil {
		errs["credential_ids"] = err.Error()
	}
	for _, a := range []struct {
		field string
		raw   string
		dst   *[]string
	}{{"to", f.To, &in.To}, {"cc", f.CC, &in.CC}, {"escalation", f.Escalation, &in.Escalation}} {
		if *a.dst, err = store.ParseAddresses(a.raw); err != nil {
			errs[a.field] = err.Error()
		}
	}
	for k, v := range in.Validate() {
		if _, taken := errs[k]; !taken {
			errs[k] = v
		}
	}
	return f, in, errs
}

func handlePartnerCreate(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		savePartner(d, w, r, 0)
	})
}

func handlePartnerUpdate(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			fail(d, w, r, err)
			return
		}
		if _, err := store.PartnerByID(r.Context(), d.Pool, id); err != nil {
			fail(d, w, r, err)
			return
		}
		savePartner(d, w, r, id)
	})
}

// savePartner creates (id 0) or updates a partner with an audit event, and, when asked,
// enqueues the re-validation of the periods holding the Party ID's unknown-partner rows.
func savePartner(d Deps, w http.ResponseWriter, r *http.Request, id int64) {
	me, _ := userFrom(r.Context())
	f, in, errs := partnerForm(r)
	f.ID = id
	if len(errs) > 0 {
		f.Errors = errs
		renderPartnerForm(d, w, r, http.StatusUnprocessableEntity, f)
		return
	}
	res, err := d.App.SavePartner(r.Context(), app.User(me.ID), app.PartnerSave{ID: id, Input: in, Revalidate: f.Revalidate})
	saved, periods := res.Partner, res.Periods
	if apperror.CodeOf(err) == apperror.Conflict {
		f.Errors = map[string]string{"party_id": apperror.MessageOf(err)}
		renderPartnerForm(d, w, r, http.StatusUnprocessableEntity, f)
		return
	}
	if err != nil {
		fail(d, w, r, err)
		return
	}
	msg := "Partner " + saved.PartyID + " saved."
	if len(periods) > 0 {
		msg += " Re-validation of its unknown-partner rows is queued for " + strings.Join(periods, ", ") + "."
	}
	flash(d, r, "success", msg)
	redirect(w, r, "/admin/partners")
}
