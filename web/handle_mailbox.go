package web

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"recondesk/internal/apperror"
	"recondesk/internal/mail"
	"recondesk/internal/store"
	"recondesk/views/admin"
)

func handleMailbox(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		msgs, err := store.ListMailbox(r.Context(), d.Pool, 200)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		render(w, r, http.StatusOK, admin.MailboxPage(shellFor(d, r, "Mailbox", "Admin"), msgs), nil)
	})
}

// loadMessage reads and parses one stored message.
func loadMessage(d Deps, r *http.Request) (store.MailboxMessage, *mail.Parsed, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return store.MailboxMessage{}, nil, err
	}
	m, err := store.MailboxMessageByID(r.Context(), d.Pool, id)
	if err != nil {
		return m, nil, err
	}
	p, err := mail.Parse(m.Raw)
	if err != nil {
		return m, nil, apperror.Wrap(err, apperror.Rule, "This message cannot be parsed; its raw bytes are kept.")
	}
	return m, p, nil
}

func handleMailboxMessage(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, p, err := loadMessage(d, r)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		// The thread: every message this one references, itself, and every
		// message that references it.
		ids := strings.Fields(p.References)
		if p.InReplyTo != "" {
			ids = append(ids, p.InReplyTo)
		}
		ids = append(ids, p.MessageID)
		thread, err := store.MailboxThread(r.Context(), d.Pool, ids, p.MessageID)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		render(w, r, http.StatusOK, admin.MessagePage(shellFor(d, r, p.Subject, "Admin"), m, p, thread), nil)
	})
}

func handleMailboxAttachment(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, p, err := loadMessage(d, r)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		n, err := strconv.Atoi(chi.URLParam(r, "n"))
		if err != nil || n < 0 || n >= len(p.Attachments) {
			fail(d, w, r, apperror.New(apperror.NotFound, "This message has no attachment %s.", chi.URLParam(r, "n")))
			return
		}
		a := p.Attachments[n]
		w.Header().Set("Content-Type", a.ContentType)
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": mail.SafeFileName(a.Name)}))
		w.Header().Set("Content-Length", strconv.Itoa(len(a.Data)))
		_, _ = w.Write(a.Data)
	})
}
