package web

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"recondesk/internal/auth"
	"recondesk/internal/browsertest"
)

// TestHTMXErrorsAreVisible: with htmx 2's default, 4xx answers were not
// swapped, so these failed silently. Now a wrong password, "too many
// attempts" (both POST forms) and an invalid Transactions filter show
// their message.
func TestHTMXErrorsAreVisible(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := browsertest.New(t, 90*time.Second)
	signIn := func(password string) (string, error) {
		err := chromedp.Do(ctx,
			chromedp.Navigate(b.srv.URL+"/login"),
			chromedp.WaitVisible(chromedp.CSS(`#f-email`)),
			chromedp.SendKeys(chromedp.CSS(`#f-email`), "finance@example.com"),
			chromedp.SendKeys(chromedp.CSS(`#f-password`), password),
			chromedp.Click(chromedp.CSS(`[data-testid="sign-in"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-error"]`)),
		)
		if err != nil {
			return "", err
		}
		return chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="login-error"]`)))
	}
	for i := range auth.DefaultThrottle.PerAccount {
		msg, err := signIn("wrong password " + itoa(int64(i)))
		if err != nil || msg != genericLoginError {
			t.Fatalf("wrong password %d: message %q, %v", i, msg, err)
		}
	}
	msg, err := signIn(testPassword)
	if err != nil || !strings.Contains(msg, "Too many failed sign-ins") {
		t.Fatalf("too many attempts: message %q, %v", msg, err)
	}

	if err := browsertest.Login(ctx, b.srv.URL, "viewer@example.com", testPassword); err != nil {
		t.Fatalf("login: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(b.srv.URL+"/ezpass/transactions"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="txn-filters"]`)),
		chromedp.SendKeys(chromedp.CSS(`#f-import`), "abc"),
		chromedp.Click(chromedp.CSS(`[data-testid="filter-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="filter-errors"]`)),
	)
	if err != nil {
		t.Fatalf("invalid filter: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="filter-errors"]`)))
	if err != nil || !strings.Contains(text, "Enter an import number like 12.") {
		t.Fatalf("invalid filter message %q, %v", text, err)
	}
}
