package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"recondesk/internal/app"
	"recondesk/internal/devstack"
)

// BenchmarkPollInbox1000 reads 1,000 partner messages from the in-process
// IMAP server in one poll: 50% human replies, 25% auto-replies, 10%
// returned master files, 5% bounces, 10% unmatched. Run it with
// go test -run '^$' -bench PollInbox1000 -benchtime 1x ./internal/app/
func BenchmarkPollInbox1000(b *testing.B) {
	const n = 1000
	for range b.N {
		b.StopTimer()
		w := inboxSetupB(b)
		for i := range n {
			batch := w.ids[i%len(w.ids)]
			var raw []byte
			var err error
			o := devstack.ReplyOptions{MessageID: fmt.Sprintf("<bench.%d@partner.test>", i), Date: inboxReplyAt}
			switch m := i % 20; {
			case m < 10:
				raw, err = devstack.BuildReply(devstack.ReplyHuman, w.raw[batch], o)
			case m < 15:
				raw, err = devstack.BuildReply(devstack.ReplyAuto, w.raw[batch], o)
			case m < 17:
				raw, err = devstack.BuildReply(devstack.ReplyReturnedFile, w.raw[batch], o)
			case m < 18:
				raw, err = devstack.BuildReply(devstack.ReplyBounce, w.raw[batch], o)
			default:
				raw = []byte(fmt.Sprintf("From: x@else.test\r\nSubject: question %d\r\nMessage-ID: <stray.%d@else.test>\r\n\r\nhello\r\n", i, i))
			}
			if err != nil {
				b.Fatal(err)
			}
			if err := w.imap.DeliverAt(w.imap.Mailbox(), raw, inboxReplyAt); err != nil {
				b.Fatal(err)
			}
		}
		a := w.app()
		b.StartTimer()
		start := time.Now()
		res, err := a.PollInbox(context.Background(), app.System("bench"))
		elapsed := time.Since(start)
		b.StopTimer()
		if err != nil || res.Stored != n {
			b.Fatalf("poll = %+v, %v", res, err)
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
		b.ReportMetric(float64(elapsed.Milliseconds()), "ms/1000msgs")
	}
}

func inboxSetupB(b *testing.B) *inboxBundle {
	b.Helper()
	// inboxSetup only uses Helper, Fatal and Cleanup of its testing.TB.
	return inboxSetupTB(b, inboxOpts{batches: 10, items: 20})
}
