package web

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"recondesk/internal/app"
	"recondesk/internal/apperror"
	"recondesk/internal/auth"
	"recondesk/internal/mail"
	"recondesk/internal/store"
	"recondesk/views/ezpass"
	"recondesk/web/query"
)

func importsData(d Deps, r *http.Request) (ezpass.ImportsData, error) {
	u, _ := userFrom(r.Context())
	list, err := store.ListEZPassImports(r.Context(), d.Pool, 0, 50)
	return ezpass.ImportsData{
		Account:     d.Config.EZPassAccount,
		MaxUploadMB: d.Config.MaxUploadMB,
		CanUpload:   u.Role.Allows(auth.Finance),
		Imports:     list,
		Now:         d.Now(),
		TZ:          displayTZ(d),
	}, err
}

func handleImports(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := importsData(d, r)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		render(w, r, http.StatusOK, ezpass.ImportsPage(shellFor(d, r, "E-ZPass imports", "E-ZPass"), data), ezpass.ImportsContent(data))
	})
}

// importByPath loads the import named by the {id} path segment.
func importByPath(d Deps, r *http.Request) (store.EZPassImport, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return store.EZPassImport{}, apperror.New(apperror.NotFound, "There is no import %q.", chi.URLParam(r, "id"))
	}
	return store.EZPassImportByID(r.Context(), d.Pool, id)
}

// importErrorsPage is how many row errors the detail page shows at once.
const importErrorsPage = 100

func handleImport(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		imp, err := importByPath(d, r)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		after64, err := query.After(r.URL.Query().Get("after"))
		if err != nil {
			fail(d, w, r, err)
			return
		}
		after := int(after64)
		errs, err := store.ListEZPassImportErrors(r.Context(), d.Pool, imp.ID, max(0, after), importErrorsPage+1)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		data := ezpass.ImportData{Imp: imp, AfterLine: max(0, after), Now: d.Now(), TZ: displayTZ(d)}
		if len(errs) > importErrorsPage {
			errs = errs[:importErrorsPage]
			data.NextLine = errs[importErrorsPage-1].Line
		}
		data.Errors = errs
		if !imp.Active() {
			if data.Outcomes, err = store.EZPassImportOutcomesOf(r.Context(), d.Pool, imp); err != nil {
				fail(d, w, r, err)
				return
			}
		}
		u, _ := userFrom(r.Context())
		data.CanDownload = u.Role.Allows(auth.Finance)
		title := fmt.Sprintf("Import #%d", imp.ID)
		render(w, r, http.StatusOK, ezpass.ImportPage(shellFor(d, r, title, "E-ZPass"), data), ezpass.ImportContent(data))
	})
}

func handleImportProgress(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		imp, err := importByPath(d, r)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		title := fmt.Sprintf("Import #%d", imp.ID)
		render(w, r, http.StatusOK, ezpass.ProgressPage(shellFor(d, r, title, "E-ZPass"), imp, d.Now(), displayTZ(d)),
			ezpass.Progress(imp, d.Now(), displayTZ(d)))
	})
}

// importUpload is a received file, spooled to a temporary file with its digest.
type importUpload struct {
	Account  string
	FileName string
	Size     int64
	SHA256   string
	File     *os.File
}

// Close removes the temporary file.
func (u *importUpload) Close() {
	if u.File != nil {
		u.File.Close()
		os.Remove(u.File.Name())
	}
}

// uploadSlack allows for the multipart framing and the form fields around the file.
const uploadSlack = 64 << 10

// mbText writes a size in MB for people: "140 MB", "1.5 MB".
func mbText(n int64) string {
	mb := float64(n) / (1 << 20)
	if mb < 10 {
		return strconv.FormatFloat(mb, 'f', 1, 64) + " MB"
	}
	return strconv.FormatFloat(mb, 'f', 0, 64) + " MB"
}

func tooLarge(size string, limitMB int64) error {
	return apperror.New(apperror.TooLarge, "The file is %s; the limit is %d MB (MAX_UPLOAD_MB). Split the export by month and upload each part.",
		size, limitMB)
}

// receiveUpload reads a multipart upload (fields "file" and optional
// "account") without holding the file in memory: the file goes to a
// temporary file while its SHA-256 and size are computed. Files over
// MAX_UPLOAD_MB are refused with 413 and the sizes.
func receiveUpload(d Deps, w http.ResponseWriter, r *http.Request) (*importUpload, error) {
	limit := d.Config.MaxUploadMB << 20
	if r.ContentLength > limit+uploadSlack {
		// Read (and drop) a moderately oversized body so that the client
		// sees the answer rather than a reset connection.
		_, _ = io.CopyN(io.Discard, r.Body, min(r.ContentLength, 2*limit+uploadSlack))
		return nil, tooLarge(mbText(r.ContentLength), d.Config.MaxUploadMB)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		return nil, apperror.New(apperror.Invalid, "Send the file as multipart/form-data in a field named \"file\".")
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit+uploadSlack)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, apperror.Wrap(err, apperror.Invalid, "The upload could not be read; choose the file again and retry.")
	}
	up := &importUpload{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			up.Close()
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, tooLarge("larger than "+mbText(limit), d.Config.MaxUploadMB)
			}
			return nil, apperror.Wrap(err, apperror.Invalid, "The upload was interrupted or is malformed; choose the file again and retry.")
		}
		switch part.FormName() {
		case "account":
			b, _ := io.ReadAll(io.LimitReader(part, 1024))
			up.Account = string(b)
		case "file":
			if up.File != nil {
				up.Close()
				return nil, apperror.New(apperror.Invalid, "Upload one file at a time.")
			}
			up.FileName = part.FileName()
			f, err := os.CreateTemp("", "recondesk-upload-*")
			if err != nil {
				return nil, err
			}
			up.File = f
			h := sha256.New()
			n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(part, limit+1))
			if err != nil {
				up.Close()
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return nil, tooLarge("larger than "+mbText(limit), d.Config.MaxUploadMB)
				}
				return nil, apperror.Wrap(err, apperror.Invalid, "The upload was interrupted; choose the file again and retry.")
			}
			if n > limit {
				up.Close()
				return nil, tooLarge("larger than "+mbText(limit), d.Config.MaxUploadMB)
			}
			up.Size, up.SHA256 = n, hex.EncodeToString(h.Sum(nil))
		}
		part.Close()
	}
	if up.File == nil {
		return nil, apperror.FieldErrors(map[string]string{"file": "Choose the E-ZPass export file to upload."})
	}
	if up.Size == 0 {
		up.Close()
		return nil, apperror.FieldErrors(map[string]string{"file": "The file is empty. Export the transaction report from the E-ZPass account and upload it."})
	}
	if _, err := up.File.Seek(0, io.SeekStart); err != nil {
		up.Close()
		return nil, err
	}
	return up, nil
}

// startImport hands the upload to the StartImport use case as the user's.
func startImport(d Deps, r *http.Request, up *importUpload) (store.EZPassImport, error) {
	u, _ := userFrom(r.Context())
	return d.App.StartImport(r.Context(), app.User(u.ID), app.EZPassUpload{
		Account: up.Account, FileName: up.FileName, Size: up.Size, SHA256: up.SHA256, File: up.File,
	})
}

// uploadRefusal turns an expected refusal into what the upload form shows.
func uploadRefusal(err error) (ezpass.UploadError, bool) {
	var dup *store.DuplicateImportError
	if errors.As(err, &dup) {
		return ezpass.UploadError{
			Message:  dup.Error(),
			LinkText: fmt.Sprintf("Open import #%d (%s)", dup.Existing.ID, dup.Existing.FileName),
			Link:     fmt.Sprintf("/ezpass/imports/%d", dup.Existing.ID),
		}, true
	}
	switch apperror.CodeOf(err) {
	case apperror.TooLarge, apperror.Invalid:
		msg := apperror.MessageOf(err)
		var e *apperror.Error
		if errors.As(err, &e) {
			for _, m := range e.Fields {
				msg = m
			}
		}
		return ezpass.UploadError{Message: msg}, true
	}
	return ezpass.UploadError{}, false
}

func handleImportUpload(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		imp, err := func() (store.EZPassImport, error) {
			up, err := receiveUpload(d, w, r)
			if err != nil {
				return store.EZPassImport{}, err
			}
			defer up.Close()
			return startImport(d, r, up)
		}()
		if err != nil {
			refusal, ok := uploadRefusal(err)
			if !ok {
				fail(d, w, r, err)
				return
			}
			status := apperror.Status(err)
			if isHTMX(r) {
				w.Header().Set("HX-Retarget", "#upload-result")
				w.Header().Set("HX-Reswap", "innerHTML")
				render(w, r, status, nil, ezpass.UploadRefused(refusal))
				return
			}
			data, lerr := importsData(d, r)
			if lerr != nil {
				fail(d, w, r, lerr)
				return
			}
			data.Error = &refusal
			render(w, r, status, ezpass.ImportsPage(shellFor(d, r, "E-ZPass imports", "E-ZPass"), data), nil)
			return
		}
		if isHTMX(r) {
			render(w, r, http.StatusOK, nil, ezpass.Progress(imp, d.Now(), displayTZ(d)))
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/ezpass/imports/%d", imp.ID), http.StatusSeeOther)
	})
}

// escapeCell keeps a spreadsheet from reading a text cell as a formula:
// text starting with =, +, -, @, tab or CR gets a leading apostrophe.
func escapeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func handleImportErrorsCSV(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		imp, err := importByPath(d, r)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="ezpass-import-%d-errors.csv"`, imp.ID))
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"Row", "Column", "Value", "Problem"})
		n := 0
		err = store.EachEZPassImportError(r.Context(), d.Pool, imp.ID, func(e store.EZPassImportError) error {
			n++
			if n%1000 == 0 {
				cw.Flush()
			}
			return cw.Write([]string{strconv.Itoa(e.Line), escapeCell(e.Column), escapeCell(e.Value), escapeCell(e.Message)})
		})
		cw.Flush()
		if err != nil {
			d.Logger.Error("import errors export", "request_id", RequestIDFrom(r.Context()), "import_id", imp.ID, "err", err.Error())
		}
	})
}

func handleImportFile(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		imp, err := importByPath(d, r)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatInt(imp.SizeBytes, 10))
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": mail.SafeFileName(imp.FileName)}))
		if _, err := store.CopyEZPassImportFile(r.Context(), d.Pool, imp, w); err != nil {
			d.Logger.Error("import file download", "request_id", RequestIDFrom(r.Context()), "import_id", imp.ID, "err", err.Error())
		}
	})
}
