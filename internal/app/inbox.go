package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	netmail "net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"recondesk/internal/apperror"
	"recondesk/internal/faulty"
	"recondesk/internal/inbox"
	"recondesk/internal/mail"
	"recondesk/internal/store"
)

// InboxPollArgs asks for new partner mail to be read from the finance mailbox.
type InboxPollArgs struct{}

// Kind is the stable job kind.
func (InboxPollArgs) Kind() string { return "inbox.poll" }

// InsertOpts bounds attempts; a poll is idempotent (UIDs and dedupe keys).
func (InboxPollArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

// DefaultPartnerReplyGrace is the business days a human reply pauses the ladder.
const DefaultPartnerReplyGrace = 5

// PollResult is what one inbox poll did.
type PollResult struct {
	// Busy means another poll held the lock: this one did nothing.
	Busy        bool           `json:"busy,omitempty"`
	UIDValidity uint32         `json:"uid_validity"`
	Seen        int            `json:"seen"`
	Stored      int            `json:"stored"`
	Duplicates  int            `json:"duplicates"`
	Matched     int            `json:"matched"`
	Unmatched   int            `json:"unmatched"`
	Kinds       map[string]int `json:"kinds"`
}

// PollInbox reads the finance mailbox (IMAP_URL) once: every message after
// the last UID stored for the mailbox's UIDVALIDITY is stored once (by
// Message-ID, else a hash), matched to its batch and acted on, in one
// transaction with its UID. One poll runs at a time (an advisory lock); a
// second one at the same moment returns Busy.
func (a *App) PollInbox(ctx context.Context, actor Actor) (PollResult, error) {
	res := PollResult{Kinds: map[string]int{}}
	if a.Config.IMAPURL == "" {
		return res, apperror.New(apperror.Unavailable, "No mailbox is configured: set IMAP_URL.")
	}
	mb, err := inbox.ParseURL(a.Config.IMAPURL, a.Config.IMAPMoveTo)
	if err != nil {
		return res, err
	}
	conn, err := a.Pool.Acquire(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Release()
	ok, err := store.TryLockInbox(ctx, conn)
	if err != nil {
		return res, err
	}
	if !ok {
		res.Busy = true
		return res, nil
	}
	defer func() { _ = store.UnlockInbox(context.WithoutCancel(ctx), conn) }()
	key := mb.Key()
	// Messages commit asynchronously (see store.AsyncCommit); one durable
	// commit before anything is moved out of the mailbox covers them all.
	mb.BeforeMove = func(ctx context.Context, v, last uint32) error {
		return a.inTx(ctx, func(tx pgx.Tx) error { return store.SaveInboxUID(ctx, tx, key, v, last) })
	}
	st, err := mb.Poll(ctx,
		func(ctx context.Context, v uint32) (uint32, error) { return store.InboxLastUID(ctx, a.Pool, key, v) },
		func(ctx context.Context, f inbox.Fetched) error { return a.storeInbound(ctx, key, f, actor, &res) })
	res.UIDValidity, res.Seen = st.UIDValidity, st.Seen
	if err != nil {
		return res, err
	}
	a.Logger.Info("inbox poll", "seen", res.Seen, "stored", res.Stored, "duplicates", res.Duplicates, "unmatched", res.Unmatched)
	return res, nil
}

// received is a message as the use cases act on it.
type received struct {
	id        int64
	kind      inbox.Kind
	batchID   string
	failed    []inbox.FailedRecipient
	workbooks []store.NewInboundAttachment
}

// storeInbound stores, matches and acts on one fetched message, and records
// its UID, in one transaction.
func (a *App) storeInbound(ctx context.Context, mailbox string, f inbox.Fetched, actor Actor, res *PollResult) error {
	now := a.Now()
	n := store.NewInbound{Mailbox: mailbox, UIDValidity: f.UIDValidity, UID: f.UID, ReceivedAt: f.InternalDate, Size: int(f.Size)}
	if n.ReceivedAt.IsZero() {
		n.ReceivedAt = now
	}
	var msg *inbox.Message
	var err error
	if f.Raw == nil {
		n.Kind = string(inbox.KindHuman)
		n.DedupeKey = fmt.Sprintf("uid:%s;%d;%d", mailbox, f.UIDValidity, f.UID)
		n.SHA256 = ""
		n.Problems = []string{fmt.Sprintf("The message is %d MB, over the %d MB limit: read it in the mailbox.", f.Size>>20, inbox.DefaultMaxMessageBytes>>20)}
	} else if msg, err = inbox.Read(f.Raw); err != nil {
		sum := sha256.Sum256(f.Raw)
		n.Kind, n.SHA256 = string(inbox.KindHuman), hex.EncodeToString(sum[:])
		n.DedupeKey = "sha256:" + n.SHA256
		n.Problems = []string{"The message could not be read: " + err.Error()}
	} else {
		n.DedupeKey, n.SHA256, n.Kind = msg.DedupeKey, msg.SHA256, string(msg.Kind)
		n.MessageID, n.From, n.To, n.Subject = msg.MessageID, msg.From, msg.To, msg.Subject
		n.InReplyTo, n.Refs, n.BodyText, n.BodyHTML = msg.InReplyTo, msg.References, msg.Text, msg.HTML
		if !msg.Date.IsZero() {
			d := msg.Date
			n.SentAt = &d
		}
		for _, r := range msg.Failed {
			n.FailedRcpts = append(n.FailedRcpts, r.Address)
		}
		for _, att := range msg.Attachments {
			sum := sha256.Sum256(att.Data)
			n.Attachments = append(n.Attachments, store.NewInboundAttachment{Name: attachmentName(att.Name, att.ContentType, len(n.Attachments)+1),
				ContentType: att.ContentType, SHA256: hex.EncodeToString(sum[:]), Data: att.Data})
		}
	}
	if n.SHA256 == "" {
		n.SHA256 = "-"
	}
	if msg != nil {
		batchID, how, err := a.matchInbound(ctx, msg)
		if err != nil {
			return err
		}
		if batchID != "" {
			n.BatchID, n.MatchedBy = &batchID, how
			if msg.Kind == inbox.KindHuman {
				until := a.pauseUntil(n.ReceivedAt)
				n.PausesUntil = &until
			}
		}
	}
	return a.inTx(ctx, func(tx pgx.Tx) error {
		if err := store.AsyncCommit(ctx, tx); err != nil {
			return err
		}
		id, inserted, err := store.InsertInbound(ctx, tx, n)
		if err != nil {
			return err
		}
		if err := store.SaveInboxUID(ctx, tx, mailbox, f.UIDValidity, f.UID); err != nil {
			return err
		}
		if !inserted {
			res.Duplicates++
			return nil
		}
		res.Stored++
		res.Kinds[n.Kind]++
		batchID := ""
		if n.BatchID != nil {
			batchID = *n.BatchID
			res.Matched++
		} else {
			res.Unmatched++
		}
		if err := store.Audit(ctx, tx, actor.String(), "inbox.message_received", "inbound_message", strconv.FormatInt(id, 10), nil,
			map[string]any{"kind": n.Kind, "batch_id": batchID, "matched_by": n.MatchedBy, "uid": f.UID, "uid_validity": f.UIDValidity}, ""); err != nil {
			return err
		}
		if batchID == "" || msg == nil {
			return nil
		}
		r := received{id: id, kind: msg.Kind, batchID: batchID, failed: msg.Failed}
		for _, att := range n.Attachments {
			if inbox.IsWorkbook(att.Name, att.ContentType) {
				r.workbooks = append(r.workbooks, att)
			}
		}
		return a.actOnInbound(ctx, tx, r, actor)
	})
}

// attachmentName names an attachment that came without one.
func attachmentName(name, contentType string, seq int) string {
	if strings.TrimSpace(name) != "" {
		return name
	}
	return fmt.Sprintf("part-%d.%s", seq, strings.NewReplacer("/", "-", "+", "-").Replace(contentType))
}

// matchInbound finds a message's batch: its In-Reply-To / References (or a
// bounce's returned original) against our Message-IDs, else the subject's
// batch token.
func (a *App) matchInbound(ctx context.Context, m *inbox.Message) (batchID, how string, err error) {
	batchID, ref, ok, err := store.BatchByMessageIDs(ctx, a.Pool, m.Refs)
	if err != nil {
		return "", "", err
	}
	if ok {
		how = "references"
		if strings.Contains(strings.ToLower(m.InReplyTo), ref) {
			how = "in_reply_to"
		}
		return batchID, how, nil
	}
	if m.Period != "" {
		batchID, ok, err := store.BatchByToken(ctx, a.Pool, m.Period, m.PartyID)
		if err != nil || !ok {
			return "", "", err
		}
		// A token is easy to type: it only files mail from the partner's own
		// domains (a bounce comes from the partner's mail server).
		addrs, err := store.BatchPartnerAddrs(ctx, a.Pool, batchID)
		if err != nil {
			return "", "", err
		}
		if !sameDomain(m.From, addrs) {
			return "", "", nil
		}
		return batchID, "subject_token", nil
	}
	return "", "", nil
}

// sameDomain reports whether from's domain is the domain (or a subdomain of
// it, e.g. the mail server's) of one of addrs.
func sameDomain(from string, addrs []string) bool {
	domain := func(s string) string {
		if a, err := netmail.ParseAddress(s); err == nil {
			s = a.Address
		}
		_, d, _ := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "@")
		return d
	}
	fd := domain(from)
	if fd == "" {
		return false
	}
	for _, a := range addrs {
		if d := domain(a); d != "" && (fd == d || strings.HasSuffix(fd, "."+d)) {
			return true
		}
	}
	return false
}

// pauseUntil is the end of the ladder's pause after a human reply at t:
// PARTNER_REPLY_GRACE business days later, in EMSP_TZ.
func (a *App) pauseUntil(t time.Time) time.Time {
	grace := a.Config.PartnerReplyGrace
	if grace <= 0 {
		grace = DefaultPartnerReplyGrace
	}
	return inbox.AddBusinessDays(t, grace, a.Config.EMSPTZ)
}

// actOnInbound applies what a message filed under a batch means: a bounce
// marks its failed recipients failing on the partner; a returned master
// file records each booking's response (only the batch's own bookings).
// Auto-replies change nothing; a human reply's pause is stored with it.
func (a *App) actOnInbound(ctx context.Context, tx pgx.Tx, r received, actor Actor) error {
	switch r.kind {
	case inbox.KindBounce:
		partnerID, err := store.BatchPartnerID(ctx, tx, r.batchID)
		if err != nil {
			return err
		}
		addrs, reasons := make([]string, 0, len(r.failed)), make([]string, 0, len(r.failed))
		for _, f := range r.failed {
			addrs = append(addrs, f.Address)
			reasons = append(reasons, strings.TrimSpace(f.Status+" "+f.Diagnostic))
		}
		if len(addrs) == 0 {
			return store.AddInboundProblems(ctx, tx, r.id, []string{"The delivery report names no failed recipient."})
		}
		if err := store.RecordRecipientFailures(ctx, tx, partnerID, r.batchID, r.id, addrs, reasons); err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor.String(), "partner.recipient_failing", "faulty_batch", r.batchID, nil,
			map[string]any{"addresses": addrs, "inbound_message_id": r.id}, "a delivery status notification reported the recipients failed")
	case inbox.KindHuman:
		for _, wb := range r.workbooks {
			if err := a.readReturnedFile(ctx, tx, r, wb, actor); err != nil {
				return err
			}
		}
	}
	return nil
}

// readReturnedFile records a returned master file's responses as item
// history; unknown and foreign references and unreadable files become the
// message's problems.
func (a *App) readReturnedFile(ctx context.Context, tx pgx.Tx, r received, wb store.NewInboundAttachment, actor Actor) error {
	ret, err := inbox.ReadReturned(wb.Data)
	if err != nil {
		return store.AddInboundProblems(ctx, tx, r.id, []string{fmt.Sprintf("%s: %v", wb.Name, err)})
	}
	problems := make([]string, 0, len(ret.Problems))
	for _, p := range ret.Problems {
		problems = append(problems, wb.Name+": "+p)
	}
	refs := make([]string, 0, len(ret.Rows))
	for _, row := range ret.Rows {
		refs = append(refs, row.AuthRef)
	}
	own, foreign, err := store.ItemsByRefs(ctx, tx, r.batchID, refs)
	if err != nil {
		return err
	}
	var rs []store.ItemResponse
	counts := map[string]int{}
	for _, row := range ret.Rows {
		it, ok := own[row.AuthRef]
		switch {
		case foreign[row.AuthRef]:
			problems = append(problems, fmt.Sprintf("%s row %d: booking %s belongs to another partner's batch; ignored.", wb.Name, row.Row, row.AuthRef))
			continue
		case !ok:
			problems = append(problems, fmt.Sprintf("%s row %d: booking %s is not in this batch; ignored.", wb.Name, row.Row, row.AuthRef))
			continue
		}
		rs = append(rs, store.ItemResponse{ItemID: it.ID, Response: string(row.Response), Note: row.Note})
		counts[string(row.Response)]++
	}
	disputes, err := store.RecordItemResponses(ctx, tx, r.batchID, r.id, rs, actor.String(), a.Now())
	if err != nil {
		return err
	}
	if err := store.AddInboundProblems(ctx, tx, r.id, problems); err != nil {
		return err
	}
	return store.Audit(ctx, tx, actor.String(), "faulty.partner_responses", "faulty_batch", r.batchID, nil,
		map[string]any{"inbound_message_id": r.id, "file": wb.Name, "responses": counts, "disputes_opened": disputes, "problems": len(problems)}, "")
}

// AttachToBatch files an unmatched message under a batch (finance), then
// acts on it as if it had matched: a human reply pauses the ladder, a
// bounce marks its recipients failing, a returned file is read.
func (a *App) AttachToBatch(ctx context.Context, actor Actor, messageID int64, batchID string) error {
	return a.inTx(ctx, func(tx pgx.Tx) error {
		until := a.pauseUntil(a.Now())
		m, err := store.AttachInbound(ctx, tx, messageID, batchID, actor.String(), &until)
		if err != nil {
			return err
		}
		r := received{id: m.ID, kind: inbox.Kind(m.Kind), batchID: batchID}
		for _, addr := range m.FailedRcpts {
			r.failed = append(r.failed, inbox.FailedRecipient{Address: addr})
		}
		stored, err := store.ListInbound(ctx, tx, store.InboundFilter{ID: m.ID})
		if err != nil {
			return err
		}
		for _, att := range stored[0].Attachments {
			if !inbox.IsWorkbook(att.Name, att.ContentType) {
				continue
			}
			meta, data, err := store.InboundAttachmentData(ctx, tx, m.ID, att.ID)
			if err != nil {
				return err
			}
			r.workbooks = append(r.workbooks, store.NewInboundAttachment{Name: meta.Name, ContentType: meta.ContentType, Data: data})
		}
		if err := store.Audit(ctx, tx, actor.String(), "inbox.message_attached", "inbound_message", strconv.FormatInt(m.ID, 10),
			map[string]any{"batch_id": nil}, map[string]any{"batch_id": batchID}, ""); err != nil {
			return err
		}
		return a.actOnInbound(ctx, tx, r, actor)
	})
}

// AcceptDispute accepts a partner's dispute: the item is resolved manually
// with the note.
func (a *App) AcceptDispute(ctx context.Context, actor Actor, disputeID int64, note string) error {
	note = strings.TrimSpace(note)
	return a.inTx(ctx, func(tx pgx.Tx) error {
		d, err := store.DecideDispute(ctx, tx, disputeID, "accepted", note, actor.String(), a.Now())
		if err != nil {
			return err
		}
		why := "Partner's dispute accepted"
		if note != "" {
			why += ": " + note
		}
		if _, err := store.ResolveItems(ctx, tx, d.BatchID, []int64{d.ItemID}, store.ResolvedManual, why, actor.String()); err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor.String(), "faulty.dispute_accepted", "faulty_batch", d.BatchID,
			map[string]any{"dispute_id": d.ID, "state": "open"}, map[string]any{"dispute_id": d.ID, "state": "accepted", "item_id": d.ItemID}, note)
	})
}

// RejectDispute rejects a partner's dispute: the item goes back on the
// ladder and the note goes into the batch's next email.
func (a *App) RejectDispute(ctx context.Context, actor Actor, disputeID int64, note string) error {
	note = strings.TrimSpace(note)
	if note == "" {
		return apperror.FieldErrors(map[string]string{"note": "Write a note for the partner: it goes into the next email."})
	}
	return a.inTx(ctx, func(tx pgx.Tx) error {
		d, err := store.DecideDispute(ctx, tx, disputeID, "rejected", note, actor.String(), a.Now())
		if err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor.String(), "faulty.dispute_rejected", "faulty_batch", d.BatchID,
			map[string]any{"dispute_id": d.ID, "state": "open"}, map[string]any{"dispute_id": d.ID, "state": "rejected", "item_id": d.ItemID}, note)
	})
}

// maxReplyRunes caps a reply written on the batch page.
const maxReplyRunes = 10_000

// ReplyToPartner queues finance's message to the partner in the batch's
// thread: an outbox row (same threading headers as the ladder's emails,
// the latest master file attached), its send job and an audit event.
func (a *App) ReplyToPartner(ctx context.Context, actor Actor, batchID, text string) (int64, error) {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	switch {
	case text == "":
		return 0, apperror.FieldErrors(map[string]string{"text": "Write the message to the partner."})
	case len([]rune(text)) > maxReplyRunes:
		return 0, apperror.FieldErrors(map[string]string{"text": fmt.Sprintf("Keep the message under %d characters.", maxReplyRunes)})
	}
	var id int64
	err := a.inTx(ctx, func(tx pgx.Tx) error {
		b, err := lockedLadderBatch(ctx, tx, batchID)
		if err != nil {
			return err
		}
		if len(b.To) == 0 {
			return apperror.New(apperror.Rule, "%s has no To address: add one on the partners page first.", b.PartnerName)
		}
		now := a.Now().Truncate(time.Microsecond)
		seq, times, err := store.ThreadSoFar(ctx, tx, b.ID)
		if err != nil {
			return err
		}
		domain := a.Config.MailDomain
		if domain == "" {
			domain = "recondesk.local"
		}
		th, err := mail.ThreadHeaders(mail.ThreadParams{BatchID: b.ID, Seq: seq, Domain: domain, PartnerName: b.PartnerName,
			PartyID: b.PartyID, Period: b.Period.String(), Times: append(times, now), Tagged: true})
		if err != nil {
			return err
		}
		var mfID *int64
		if mf, ok, err := store.LatestLadderMasterFile(ctx, tx, b.ID); err != nil {
			return err
		} else if ok {
			mfID = &mf.ID
		}
		paras := strings.Split(text, "\n")
		for i, p := range paras {
			paras[i] = html.EscapeString(p)
		}
		body := "<!doctype html><html><body><p>" + strings.Join(paras, "<br>") + "</p></body></html>"
		e := store.NewFaultyEmail{BatchID: b.ID, Seq: seq, StepKey: fmt.Sprintf("reply:%d", seq), Level: string(faulty.LevelReply),
			MessageID: th.MessageID, Subject: th.Subject, To: b.To, Cc: b.Cc, BodyText: text, BodyHTML: body,
			MasterFileID: mfID, PlannedAt: now, CreatedBy: actor.String()}
		var inserted bool
		id, inserted, err = store.InsertFaultyEmail(ctx, tx, e)
		if err != nil {
			return err
		}
		if !inserted {
			return apperror.New(apperror.Conflict, "Another message was just added to this thread; reload the page and try again.")
		}
		if _, err := a.insertTx(ctx, tx, FaultySendArgs{EmailID: id}, nil); err != nil {
			return fmt.Errorf("enqueue faulty.send: %w", err)
		}
		return store.Audit(ctx, tx, actor.String(), "faulty.reply_decided", "faulty_batch", b.ID, nil,
			map[string]any{"email_id": id, "seq": seq, "message_id": th.MessageID, "to": b.To, "cc": b.Cc}, "")
	})
	return id, err
}

// RequestInboxPoll queues an inbox poll now (the "Check mail now" button);
// the job is unique while one is waiting.
func (a *App) RequestInboxPoll(ctx context.Context, actor Actor) error {
	if a.Config.IMAPURL == "" {
		return apperror.New(apperror.Rule, "No mailbox is configured: set IMAP_URL to read partner replies.")
	}
	return a.inTx(ctx, func(tx pgx.Tx) error {
		opts := InboxPollArgs{}.InsertOpts()
		opts.UniqueOpts = river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled, rivertype.JobStateRetryable}}
		if _, err := a.insertTx(ctx, tx, InboxPollArgs{}, &opts); err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor.String(), "inbox.poll_requested", "inbox", "", nil, nil, "")
	})
}
