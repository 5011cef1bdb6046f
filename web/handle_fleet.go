package web

import (
	"errors"
	"io"
	"net/http"

	"recondesk/internal/app"
	"recondesk/internal/apperror"
	"recondesk/internal/auth"
	"recondesk/internal/store"
	"recondesk/views/fleet"
	"recondesk/web/query"
)

// fleetEntities are the fleet pages, in the order of their tabs.
var fleetEntities = func() []fleet.Entity {
	out := make([]fleet.Entity, len(app.FleetEntities))
	for i, e := range app.FleetEntities {
		out[i] = fleet.Entity(e)
	}
	return out
}()

const fleetPageSize = 50

func fleetPage(d Deps, r *http.Request, e fleet.Entity, up *fleet.Upload) (fleet.PageData, error) {
	u, _ := userFrom(r.Context())
	q, err := query.Text("search", r.URL.Query().Get("q"))
	if err != nil {
		return fleet.PageData{}, err
	}
	page, err := query.Page(r.URL.Query().Get("page"))
	if err != nil {
		return fleet.PageData{}, err
	}
	data := fleet.PageData{Entities: fleetEntities, Entity: e, Q: q, CanEdit: u.Role.Allows(auth.Admin), Upload: up}
	data.List, err = store.BrowseFleetPage(r.Context(), d.Pool, e.Name, q, page, fleetPageSize, displayTZ(d))
	return data, err
}

func handleFleetPage(d Deps, e fleet.Entity) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := fleetPage(d, r, e, nil)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		render(w, r, http.StatusOK, fleet.Page(shellFor(d, r, "Fleet: "+e.Title, "Fleet data"), data), nil)
	})
}

func handleFleetUpload(d Deps, e fleet.Entity) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		me, _ := userFrom(r.Context())
		limit := d.Config.MaxUploadMB << 20
		r.Body = http.MaxBytesReader(w, r.Body, limit+1<<20)
		file, hdr, err := r.FormFile("file")
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				fail(d, w, r, apperror.New(apperror.TooLarge, "The file is larger than %d MB (MAX_UPLOAD_MB); split it.", d.Config.MaxUploadMB))
				return
			}
			fail(d, w, r, apperror.New(apperror.Invalid, "Choose a CSV or XLSX file to upload."))
			return
		}
		defer file.Close()
		body, err := io.ReadAll(file)
		if err != nil {
			fail(d, w, r, apperror.New(apperror.Invalid, "The file could not be read: %v.", err))
			return
		}
		checked := r.FormValue("mode") == "check"
		res, err := d.App.LoadFleet(r.Context(), app.User(me.ID), app.FleetUpload{
			Entity: app.FleetEntity(e), FileName: hdr.Filename, Body: body, CheckOnly: checked,
		})
		if err != nil {
			fail(d, w, r, err)
			return
		}
		up := &fleet.Upload{FileName: hdr.Filename, Checked: checked, Header: res.Header, Preview: res.Preview, Rows: res.Rows,
			Errors: res.Errors, Counts: res.Counts, Message: res.Message}
		status := http.StatusOK
		if res.Refused() {
			status = http.StatusUnprocessableEntity
		}
		data, err := fleetPage(d, r, e, up)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		render(w, r, status, fleet.Page(shellFor(d, r, "Fleet: "+e.Title, "Fleet data"), data), nil)
	})
}
