package mail

import (
	"regexp"
	"strings"
)

// BatchToken returns the batch token put in outgoing subjects, "[RD-{YYYY-MM}-{PARTY}]", so a
// reply that lost its In-Reply-To and References still finds its batch.
func BatchToken(period, partyID string) string {
	return "[RD-" + oneLine(period) + "-" + strings.Join(strings.Fields(partyID), "") + "]"
}

// tokenRe finds a batch token: the period and a party id without spaces or brackets.
var tokenRe = regexp.MustCompile(`\[RD-(\d{4}-(?:0[1-9]|1[0-2]))-([^\]\s\[]{1,64})\]`)

// ParseBatchToken finds the last batch token in a subject and returns its period and party id.
func ParseBatchToken(subject string) (period, partyID string, ok bool) {
	all := tokenRe.FindAllStringSubmatch(subject, -1)
	if len(all) == 0 {
		return "", "", false
	}
	m := all[len(all)-1]
	return m[1], m[2], true
}

// TaggedSubject is Subject with the batch token at the end.
func TaggedSubject(partnerName, partyID, period string, reply bool) string {
	return Subject(partnerName, partyID, period, reply) + " " + BatchToken(period, partyID)
}
