package mail_test

import (
	"fmt"
	"time"

	"recondesk/internal/mail"
)

func ExampleMessageID() {
	fmt.Println(mail.MessageID("3f2a9c1e-8b7d-4e2f-9a10-5c6d7e8f9012", 2, "recondesk.example"))
	// Output: <rd.3f2a9c1e-8b7d-4e2f-9a10-5c6d7e8f9012.2@recondesk.example>
}

func ExampleSubject() {
	fmt.Println(mail.Subject("Ionity GmbH", "DE*ION", "2026-01", false))
	fmt.Println(mail.Subject("Ionity GmbH", "DE*ION", "2026-01", true))
	// Output:
	// [Faulty bookings] Ionity GmbH (DE*ION) 2026-01
	// Re: [Faulty bookings] Ionity GmbH (DE*ION) 2026-01
}

func ExampleReferences() {
	batch := "3f2a9c1e-8b7d-4e2f-9a10-5c6d7e8f9012"
	fmt.Println(mail.References([]string{
		mail.MessageID(batch, 1, "rd.example"),
		mail.MessageID(batch, 2, "rd.example"),
	}))
	// Output: <rd.3f2a9c1e-8b7d-4e2f-9a10-5c6d7e8f9012.1@rd.example> <rd.3f2a9c1e-8b7d-4e2f-9a10-5c6d7e8f9012.2@rd.example>
}

func ExampleThreadHeaders() {
	th, err := mail.ThreadHeaders(mail.ThreadParams{
		BatchID: "3f2a9c1e-8b7d-4e2f-9a10-5c6d7e8f9012", Seq: 2, Domain: "rd.example",
		PartnerName: "Ionity GmbH", PartyID: "DE*ION", Period: "2026-01",
		Times: []time.Time{
			time.Date(2026, 2, 16, 9, 0, 0, 0, time.UTC),
			time.Date(2026, 2, 21, 9, 0, 0, 0, time.UTC),
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(th.Subject)
	fmt.Println(th.InReplyTo)
	fmt.Println(th.ThreadIndex)
	// Output:
	// Re: [Faulty bookings] Ionity GmbH (DE*ION) 2026-01
	// <rd.3f2a9c1e-8b7d-4e2f-9a10-5c6d7e8f9012.1@rd.example>
	// AdyfIqFpPyqcHot9Ti+aEFxtfo+QEgD7dQQx
}

func ExampleClassify() {
	fmt.Println(mail.Classify(nil), mail.Classify(mail.ErrConnect), mail.Classify(mail.ErrInvalidMessage))
	// Output: sent temporary permanent
}
