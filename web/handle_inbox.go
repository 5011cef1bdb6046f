package web

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"recondesk/internal/auth"
	"recondesk/internal/mail"
	"recondesk/internal/store"
	views "recondesk/views/inbox"
	"recondesk/views/layout"
	"recondesk/web/query"
)

// inboxNav is the navigation of partner replies (finance's queues).
func inboxNav() []layout.NavItem {
	return []layout.NavItem{{Label: "Partner mail", Href: "/inbox/unmatched"}}
}

func canAct(r *http.Request) bool {
	u, _ := userFrom(r.Context())
	return u.Role.Allows(auth.Finance)
}

// inboxBatchPanel is the inbox part of a batch page: conversation, partner
// responses, disputes, failing recipients, the reply form.
func inboxBatchPanel(ctx context.Context, d Deps, b store.LadderBatch, emails []store.FaultyEmail, act bool) (templ.Component, error) {
	in, err := store.ListInbound(ctx, d.Pool, store.InboundFilter{BatchID: b.ID})
	if err != nil {
		return nil, err
	}
	data := views.BatchData{BatchID: b.ID, Conversation: views.Conversation(emails, in), CanAct: act, Loc: displayTZ(d)}
	if b.Facts.Paused(d.Now()) {
		data.PausedUntil = b.Facts.PausedUntil
	}
	if data.Responses, err = store.LatestResponses(ctx, d.Pool, b.ID); err != nil {
		return nil, err
	}
	if data.Disputes, err = store.ListDisputes(ctx, d.Pool, store.DisputeFilter{BatchID: b.ID}); err != nil {
		return nil, err
	}
	if data.PendingNotes, err = store.PendingRejectionNotes(ctx, d.Pool, b.ID); err != nil {
		return nil, err
	}
	data.Failures, err = store.RecipientFailures(ctx, d.Pool, b.PartnerID)
	return views.BatchPanel(data), err
}

// handleInboxUnmatched is the Unmatched mail queue.
func handleInboxUnmatched(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ms, err := store.ListInbound(r.Context(), d.Pool, store.InboundFilter{Unmatched: true, Limit: 200})
		if err != nil {
			fail(d, w, r, err)
			return
		}
		data := views.UnmatchedData{Messages: ms, CanAct: canAct(r), Loc: displayTZ(d)}
		if data.CanAct && len(ms) > 0 {
			bs, err := store.ListBatches(r.Context(), d.Pool, store.BatchFilter{})
			if err != nil {
				fail(d, w, r, err)
				return
			}
			for _, b := range bs {
				data.Batches = append(data.Batches, views.BatchChoice{ID: b.ID, Label: b.Period + " " + b.PartnerName + " (" + b.PartyID + ")"})
			}
		}
		render(w, r, http.StatusOK, views.UnmatchedPage(shellFor(d, r, "Unmatched mail", "Partner mail"), data), views.Unmatched(data))
	})
}

// handleDisputes is the Disputes page.
func handleDisputes(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		state := r.URL.Query().Get("state")
		switch state {
		case "open", "accepted", "rejected", "all":
		default:
			state = "open"
		}
		pq := store.DisputePageQuery{State: state}
		if state == "all" {
			pq.State = ""
		}
		var err error
		if pq.Before, err = query.After(r.URL.Query().Get("before")); err != nil {
			fail(d, w, r, err)
			return
		}
		if pq.After, err = query.After(r.URL.Query().Get("after")); err != nil {
			fail(d, w, r, err)
			return
		}
		page, err := store.ListDisputePage(r.Context(), d.Pool, pq)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		count, err := store.CountDisputes(r.Context(), d.Pool, pq.State)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		data := views.DisputesData{Disputes: page.Disputes, State: state, CanAct: canAct(r), Loc: displayTZ(d),
			Count: count, Older: page.Older, Newer: page.Newer, First: page.Newer == 0 && (len(page.Disputes) > 0 || pq.Before == 0 && pq.After == 0), Back: r.URL.RequestURI()}
		render(w, r, http.StatusOK, views.DisputesPage(shellFor(d, r, "Disputes", "Partner mail"), data), views.Disputes(data))
	})
}

// safeInline are the attachment types served with their own type; anything
// else is served as bytes. Every attachment is a download, never rendered.
var safeTypes = map[string]bool{
	"application/pdf": true, "text/plain": true, "text/csv": true, "image/png": true, "image/jpeg": true,
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": true,
}

// handleInboxAttachment downloads one attachment of a partner's message.
func handleInboxAttachment(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			fail(d, w, r, err)
			return
		}
		att, err := pathID(r, "att")
		if err != nil {
			fail(d, w, r, err)
			return
		}
		a, data, err := store.InboundAttachmentData(r.Context(), d.Pool, id, att)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		ct := "application/octet-stream"
		if safeTypes[a.ContentType] {
			ct = a.ContentType
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": mail.SafeFileName(a.Name)}))
		w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		_, _ = w.Write(data)
	})
}

// backTo is a local path from the form to return to, else def.
func backTo(r *http.Request, def string) string {
	b := r.PostFormValue("back")
	if strings.HasPrefix(b, "/") && !strings.HasPrefix(b, "//") && !strings.ContainsAny(b, "\\\r\n") {
		return b
	}
	return def
}

// handleInboxAttach files an unmatched message under a batch.
func handleInboxAttach(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			fail(d, w, r, err)
			return
		}
		batch := strings.ToLower(strings.TrimSpace(r.PostFormValue("batch_id")))
		if err := d.App.AttachToBatch(r.Context(), actorOf(r), id, batch); err != nil {
			ladderFail(d, w, r, "/inbox/unmatched", err)
			return
		}
		flash(d, r, "success", "The message is filed under the batch.")
		redirect(w, r, batchURL(batch))
	})
}

// handleInboxPoll queues a mailbox check now.
func handleInboxPoll(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := d.App.RequestInboxPoll(r.Context(), actorOf(r)); err != nil {
			ladderFail(d, w, r, "/inbox/unmatched", err)
			return
		}
		flash(d, r, "success", "The mailbox will be checked in a moment.")
		redirect(w, r, "/inbox/unmatched")
	})
}

// handleDisputeDecision accepts (resolves the item) or rejects a dispute.
func handleDisputeDecision(d Deps, accept bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			fail(d, w, r, err)
			return
		}
		back := backTo(r, "/disputes")
		note := r.PostFormValue("note")
		msg := "Dispute accepted: the booking is resolved."
		if accept {
			err = d.App.AcceptDispute(r.Context(), actorOf(r), id, note)
		} else {
			err = d.App.RejectDispute(r.Context(), actorOf(r), id, note)
			msg = "Dispute rejected: the booking is back on the ladder and the note goes into the next email."
		}
		if err != nil {
			ladderFail(d, w, r, back, err)
			return
		}
		flash(d, r, "success", msg)
		redirect(w, r, back)
	})
}

// handleBatchReply queues finance's reply in the batch's thread.
func handleBatchReply(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := batchID(r)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		emailID, err := d.App.ReplyToPartner(r.Context(), actorOf(r), id, r.PostFormValue("text"))
		if err != nil {
			ladderFail(d, w, r, batchURL(id), err)
			return
		}
		flash(d, r, "success", fmt.Sprintf("Reply queued for sending (email %d).", emailID))
		redirect(w, r, batchURL(id))
	})
}
