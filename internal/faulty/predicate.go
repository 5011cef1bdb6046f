package faulty

import (
	"strings"
)

// Booking is the projection of a MongoDB `chargerbookings` document that the predicate needs.
type Booking struct {
	// ID is the booking's ObjectId as 24 lower-case hex digits.
	ID string
	// IsOCPI mirrors is_ocpi_based_booking.
	IsOCPI bool
	// IsEMSP mirrors is_emsp_based_booking.
	IsEMSP bool
	// Invoiced is true when the invoice field holds a value (absent or null means false).
	Invoiced bool
	// FaultReasons mirrors faulty_booking_reason, MongoDB's authoritative list.
	FaultReasons []string
	// PaymentStatus mirrors payment_status.
	PaymentStatus string
	// Credential is the ocpiCredential ObjectId as 24 lower-case hex digits ("" when absent).
	Credential string
}

// Reason is why a report row is not confirmed faulty; the empty Reason means confirmed.
type Reason string

// The reasons, in the order the predicate checks them (UnknownPartner is decided before it).
const (
	ReasonNone              Reason = ""
	ReasonUnknownPartner    Reason = "UNKNOWN_PARTNER"
	ReasonInvalidReference  Reason = "INVALID_REFERENCE"
	ReasonNotFound          Reason = "NOT_FOUND"
	ReasonForeignCredential Reason = "FOREIGN_CREDENTIAL"
	ReasonNotOCPI           Reason = "NOT_OCPI"
	ReasonNotEMSP           Reason = "NOT_EMSP"
	ReasonAlreadyInvoiced   Reason = "ALREADY_INVOICED"
	ReasonNoFaultReason     Reason = "NO_FAULT_REASON"
	ReasonNotActionRequired Reason = "NOT_ACTION_REQUIRED"
)

// PaymentActionRequired is the payment_status a confirmed faulty booking must have.
const PaymentActionRequired = "action_required"

// Reasons lists every non-empty reason, in check order.
var Reasons = []Reason{
	ReasonUnknownPartner, ReasonInvalidReference, ReasonNotFound, ReasonForeignCredential,
	ReasonNotOCPI, ReasonNotEMSP, ReasonAlreadyInvoiced, ReasonNoFaultReason, ReasonNotActionRequired,
}

var reasonText = map[Reason]string{
	ReasonNone:              "Confirmed faulty",
	ReasonUnknownPartner:    "The report's Party ID matches no configured partner",
	ReasonInvalidReference:  "The Authorization Reference is not a valid booking id (24 hex digits)",
	ReasonNotFound:          "No booking with this Authorization Reference exists in MongoDB",
	ReasonForeignCredential: "The booking's OCPI credential belongs to a different partner",
	ReasonNotOCPI:           "The booking is not OCPI based",
	ReasonNotEMSP:           "The booking is not EMSP based",
	ReasonAlreadyInvoiced:   "The booking has already been invoiced",
	ReasonNoFaultReason:     "MongoDB records no fault reason for the booking",
	ReasonNotActionRequired: "The booking's payment status is not action_required",
}

// Text returns a sentence for staff explaining the reason.
func (r Reason) Text() string {
	if t, ok := reasonText[r]; ok {
		return t
	}
	return "Unknown reason " + string(r)
}

// Confirmed reports whether the reason means the row is confirmed faulty.
func (r Reason) Confirmed() bool { return r == ReasonNone }

// NormalizeReference returns ref as 24 lower-case hex digits and true, or "" and false when it
// is not a valid ObjectId. Surrounding spaces are ignored.
func NormalizeReference(ref string) (string, bool) {
	ref = strings.TrimSpace(ref)
	if len(ref) != 24 {
		return "", false
	}
	b := []byte(ref)
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			b[i] = c + ('a' - 'A')
		default:
			return "", false
		}
	}
	return string(b), true
}

// Check applies the authoritative predicate (§4.2) to a report row's reference, the booking
// found for it in MongoDB (nil when none) and the credential ids of the row's partner. It
// returns ReasonNone when the row is confirmed faulty, else the first failing reason.
func Check(ref string, found *Booking, partnerCredentials []string) Reason {
	if _, ok := NormalizeReference(ref); !ok {
		return ReasonInvalidReference
	}
	if found == nil {
		return ReasonNotFound
	}
	if !hasCredential(partnerCredentials, found.Credential) {
		return ReasonForeignCredential
	}
	if !found.IsOCPI {
		return ReasonNotOCPI
	}
	if !found.IsEMSP {
		return ReasonNotEMSP
	}
	if found.Invoiced {
		return ReasonAlreadyInvoiced
	}
	if !hasFaultReason(found.FaultReasons) {
		return ReasonNoFaultReason
	}
	if found.PaymentStatus != PaymentActionRequired {
		return ReasonNotActionRequired
	}
	return ReasonNone
}

func hasCredential(creds []string, c string) bool {
	c, ok := NormalizeReference(c)
	if !ok {
		return false
	}
	for _, pc := range creds {
		if n, ok := NormalizeReference(pc); ok && n == c {
			return true
		}
	}
	return false
}

// hasFaultReason reports whether the list holds at least one non-blank reason.
func hasFaultReason(reasons []string) bool {
	for _, r := range reasons {
		if strings.TrimSpace(r) != "" {
			return true
		}
	}
	return false
}
