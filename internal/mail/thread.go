// Package mail builds, sends and parses the emails of a faulty-bookings batch thread:
// deterministic thread headers (Message-ID, References, Outlook Thread-Index), a go-mail
// based Sender whose errors are classified for the outbox, and a parser for received mail.
package mail

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SubjectPrefix starts the subject of every batch thread.
const SubjectPrefix = "[Faulty bookings]"

// ReplyPrefix is put before the subject of every message after the first.
const ReplyPrefix = "Re: "

// MessageID returns the deterministic Message-ID of message seq of the batch's thread,
// angle brackets included: <rd.{batch uuid}.{seq}@{domain}>.
func MessageID(batchID string, seq int, domain string) string {
	return "<rd." + strings.ToLower(strings.TrimSpace(batchID)) + "." + strconv.Itoa(seq) + "@" +
		strings.TrimSpace(domain) + ">"
}

// Subject returns the thread subject "[Faulty bookings] {Partner} ({Party ID}) {YYYY-MM}",
// with "Re: " in front for replies. Runs of whitespace in the inputs become one space.
func Subject(partnerName, partyID, period string, reply bool) string {
	s := SubjectPrefix + " " + oneLine(partnerName) + " (" + oneLine(partyID) + ") " + oneLine(period)
	if reply {
		return ReplyPrefix + s
	}
	return s
}

// References returns the References header value: every earlier Message-ID in order,
// separated by single spaces.
func References(prev []string) string {
	return strings.Join(prev, " ")
}

// oneLine collapses all whitespace (including CR and LF) to single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// ThreadGUID returns the 16 bytes of a canonical UUID string (the batch id), used as the
// Outlook conversation GUID so that Thread-Index is deterministic per batch.
func ThreadGUID(batchID string) ([16]byte, error) {
	var g [16]byte
	s := strings.TrimSpace(batchID)
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return g, fmt.Errorf("mail: batch id %q is not a UUID", batchID)
	}
	raw := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	if _, err := hex.Decode(g[:], []byte(raw)); err != nil {
		return g, fmt.Errorf("mail: batch id %q is not a UUID: %w", batchID, err)
	}
	return g, nil
}

// Thread-Index layout ([MS-OXOMSG] 2.2.1.3, PidTagConversationIndex).
const (
	threadIndexHeaderLen = 22 // 6 bytes FILETIME >> 16, then the 16-byte GUID
	threadIndexChildLen  = 5  // DC bit + 31-bit time delta, then 8 bits random/sequence
	// filetimeUnixEpoch is 1970-01-01 in 100 ns intervals since 1601-01-01.
	filetimeUnixEpoch = 116444736000000000
	// deltaCodeMask selects the bits of a time difference that force delta code 1 (≥ ~1.7 years).
	deltaCodeMask = 0x00FE_0000_0000_0000
)

// filetime converts t to a Windows FILETIME (100 ns intervals since 1601-01-01 UTC);
// times before 1601 become 0.
func filetime(t time.Time) uint64 {
	secs := t.Unix() + filetimeUnixEpoch/10_000_000
	if secs < 0 {
		return 0
	}
	return uint64(secs)*10_000_000 + uint64(t.Nanosecond()/100)
}

// fromFiletime converts a FILETIME back to a UTC time.
func fromFiletime(ft uint64) time.Time {
	secs := int64(ft/10_000_000) - filetimeUnixEpoch/10_000_000
	return time.Unix(secs, int64(ft%10_000_000)*100).UTC()
}

// ThreadIndex returns the base64 Outlook Thread-Index of a message: a 22-byte header block
// (the 6 high bytes of topicTime's FILETIME and threadGUID), then one 5-byte child block
// per reply, each holding the reply's time difference to the header time. The output
// depends only on the inputs, so pass stored times (e.g. each message's planned send
// time), not the time of the attempt.
func ThreadIndex(topicTime time.Time, threadGUID [16]byte, replies []time.Time) string {
	buf := make([]byte, threadIndexHeaderLen, threadIndexHeaderLen+threadIndexChildLen*len(replies))
	head := filetime(topicTime) >> 16
	var ft [8]byte
	binary.BigEndian.PutUint64(ft[:], head)
	copy(buf[0:6], ft[2:8])
	copy(buf[6:22], threadGUID[:])
	base := head << 16
	for i, r := range replies {
		var diff uint64
		if t := filetime(r); t > base {
			diff = t - base
		}
		var word uint32
		if diff&deltaCodeMask == 0 {
			word = uint32(diff>>18) & 0x7FFF_FFFF
		} else {
			word = 1<<31 | uint32(diff>>23)&0x7FFF_FFFF
		}
		var child [threadIndexChildLen]byte
		binary.BigEndian.PutUint32(child[0:4], word)
		// 4 bits "random" (taken from the GUID, so deterministic) and a 4-bit sequence count.
		child[4] = threadGUID[i%16]&0xF0 | byte(i+1)&0x0F
		buf = append(buf, child[:]...)
	}
	return base64.StdEncoding.EncodeToString(buf)
}

// ThreadIndexInfo is a decoded Thread-Index.
type ThreadIndexInfo struct {
	// Topic is the header time, truncated to the 6.5 ms resolution of the format.
	Topic time.Time
	// GUID identifies the conversation.
	GUID [16]byte
	// Replies holds the time of each child block (26 ms or 0.8 s resolution).
	Replies []time.Time
}

// ErrThreadIndex reports a Thread-Index value that cannot be decoded.
var ErrThreadIndex = errors.New("mail: malformed Thread-Index")

// ParseThreadIndex decodes a base64 Thread-Index header value.
func ParseThreadIndex(s string) (ThreadIndexInfo, error) {
	var info ThreadIndexInfo
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return info, fmt.Errorf("%w: %v", ErrThreadIndex, err)
	}
	if len(raw) < threadIndexHeaderLen || (len(raw)-threadIndexHeaderLen)%threadIndexChildLen != 0 {
		return info, fmt.Errorf("%w: %d bytes is not 22 + 5n", ErrThreadIndex, len(raw))
	}
	var ft [8]byte
	copy(ft[2:8], raw[0:6])
	base := binary.BigEndian.Uint64(ft[:]) << 16
	info.Topic = fromFiletime(base)
	copy(info.GUID[:], raw[6:22])
	for off := threadIndexHeaderLen; off < len(raw); off += threadIndexChildLen {
		word := binary.BigEndian.Uint32(raw[off : off+4])
		delta := uint64(word & 0x7FFF_FFFF)
		if word>>31 == 0 {
			delta <<= 18
		} else {
			delta <<= 23
		}
		info.Replies = append(info.Replies, fromFiletime(base+delta))
	}
	return info, nil
}

// ThreadParams places one message in a batch thread.
type ThreadParams struct {
	// BatchID is the batch uuid.
	BatchID string
	// Seq is the 1-based position of the message in the thread.
	Seq int
	// Domain is the Message-ID domain (MAIL_DOMAIN).
	Domain string
	// PartnerName, PartyID and Period (YYYY-MM) make up the subject.
	PartnerName, PartyID, Period string
	// Tagged ends the subject with the batch token (BatchToken), which inbound
	// mail is matched by when its references are lost.
	Tagged bool
	// Times holds the stored time of messages 1..Seq (len(Times) == Seq); the first is the
	// Thread-Index topic time, the others its replies.
	Times []time.Time
}

// Thread holds the threading headers of one message.
type Thread struct {
	MessageID   string
	InReplyTo   string
	References  string
	Subject     string
	ThreadTopic string
	ThreadIndex string
}

// ThreadHeaders returns the threading headers of message p.Seq of the batch thread.
func ThreadHeaders(p ThreadParams) (Thread, error) {
	guid, err := ThreadGUID(p.BatchID)
	if err != nil {
		return Thread{}, err
	}
	if p.Seq < 1 {
		return Thread{}, fmt.Errorf("mail: thread seq %d, want 1 or more", p.Seq)
	}
	if len(p.Times) != p.Seq {
		return Thread{}, fmt.Errorf("mail: thread seq %d needs %d message times, got %d", p.Seq, p.Seq, len(p.Times))
	}
	if strings.TrimSpace(p.Domain) == "" {
		return Thread{}, errors.New("mail: thread domain is empty")
	}
	prev := make([]string, 0, p.Seq-1)
	for i := 1; i < p.Seq; i++ {
		prev = append(prev, MessageID(p.BatchID, i, p.Domain))
	}
	th := Thread{
		MessageID:   MessageID(p.BatchID, p.Seq, p.Domain),
		References:  References(prev),
		Subject:     Subject(p.PartnerName, p.PartyID, p.Period, p.Seq > 1),
		ThreadTopic: Subject(p.PartnerName, p.PartyID, p.Period, false),
		ThreadIndex: ThreadIndex(p.Times[0], guid, p.Times[1:]),
	}
	if p.Tagged {
		th.Subject = TaggedSubject(p.PartnerName, p.PartyID, p.Period, p.Seq > 1)
		th.ThreadTopic = TaggedSubject(p.PartnerName, p.PartyID, p.Period, false)
	}
	if len(prev) > 0 {
		th.InReplyTo = prev[len(prev)-1]
	}
	return th, nil
}
