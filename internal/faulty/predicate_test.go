package faulty

import (
	"archive/zip"
	"bytes"
	"testing"
)

func zipOf(t *testing.T, name, content string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const (
	credA = "64a000000000000000000001"
	credB = "64a000000000000000000002"
)

// confirmed returns a booking that passes every check; tests change one field.
func confirmed() *Booking {
	return &Booking{
		ID: ref1, IsOCPI: true, IsEMSP: true, FaultReasons: []string{"CDR_MISSING"},
		PaymentStatus: "action_required", Credential: credA,
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	with := func(f func(b *Booking)) *Booking { b := confirmed(); f(b); return b }
	tests := []struct {
		name  string
		ref   string
		found *Booking
		creds []string
		want  Reason
	}{
		{"confirmed", ref1, confirmed(), []string{credB, credA}, ReasonNone},
		{"upper-case reference and credential", "6650C0FFEE0000000000A001", with(func(b *Booking) { b.Credential = "64A000000000000000000001" }), []string{credA}, ReasonNone},
		{"invalid reference", "BK-12345", nil, []string{credA}, ReasonInvalidReference},
		{"23 hex digits", ref1[:23], nil, []string{credA}, ReasonInvalidReference},
		{"invalid beats found", "zz50c0ffee0000000000a001", confirmed(), []string{credA}, ReasonInvalidReference},
		{"not found", ref1, nil, []string{credA}, ReasonNotFound},
		{"foreign credential", ref1, confirmed(), []string{credB}, ReasonForeignCredential},
		{"partner without credentials", ref1, confirmed(), nil, ReasonForeignCredential},
		{"booking without credential", ref1, with(func(b *Booking) { b.Credential = "" }), []string{credA}, ReasonForeignCredential},
		{"not OCPI", ref1, with(func(b *Booking) { b.IsOCPI = false }), []string{credA}, ReasonNotOCPI},
		{"not EMSP", ref1, with(func(b *Booking) { b.IsEMSP = false }), []string{credA}, ReasonNotEMSP},
		{"not OCPI before not EMSP", ref1, with(func(b *Booking) { b.IsOCPI, b.IsEMSP = false, false }), []string{credA}, ReasonNotOCPI},
		{"invoiced", ref1, with(func(b *Booking) { b.Invoiced = true }), []string{credA}, ReasonAlreadyInvoiced},
		{"no fault reason", ref1, with(func(b *Booking) { b.FaultReasons = nil }), []string{credA}, ReasonNoFaultReason},
		{"blank fault reasons", ref1, with(func(b *Booking) { b.FaultReasons = []string{"", "  "} }), []string{credA}, ReasonNoFaultReason},
		{"paid", ref1, with(func(b *Booking) { b.PaymentStatus = "paid" }), []string{credA}, ReasonNotActionRequired},
		{"status is case-sensitive", ref1, with(func(b *Booking) { b.PaymentStatus = "ACTION_REQUIRED" }), []string{credA}, ReasonNotActionRequired},
		{"first failing wins", ref1, with(func(b *Booking) { b.Invoiced, b.PaymentStatus = true, "paid" }), []string{credA}, ReasonAlreadyInvoiced},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Check(tt.ref, tt.found, tt.creds); got != tt.want {
				t.Fatalf("Check() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReasonText(t *testing.T) {
	t.Parallel()
	seen := map[string]Reason{}
	for _, r := range append([]Reason{ReasonNone}, Reasons...) {
		txt := r.Text()
		if txt == "" || txt[:7] == "Unknown" {
			t.Errorf("%q has no text", r)
		}
		if other, dup := seen[txt]; dup {
			t.Errorf("%q and %q share the text %q", r, other, txt)
		}
		seen[txt] = r
	}
	if !ReasonNone.Confirmed() || ReasonNotFound.Confirmed() {
		t.Error("Confirmed() wrong")
	}
	if got := Reason("BOGUS").Text(); got != "Unknown reason BOGUS" {
		t.Errorf("Text() = %q", got)
	}
}

func TestNormalizeReference(t *testing.T) {
	t.Parallel()
	if got, ok := NormalizeReference(" 6650C0FFEE0000000000A001 "); !ok || got != ref1 {
		t.Fatalf("NormalizeReference = %q, %v", got, ok)
	}
	for _, bad := range []string{"", "6650c0ffee0000000000a00", "6650c0ffee0000000000a0011", "6650c0ffee0000000000a00g"} {
		if _, ok := NormalizeReference(bad); ok {
			t.Errorf("NormalizeReference(%q) accepted", bad)
		}
	}
}
