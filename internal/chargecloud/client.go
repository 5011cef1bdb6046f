// Package chargecloud is the HTTP client for ChargeCloud's faulty-booking report API (§4.1).
package chargecloud

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"recondesk/internal/faulty"
)

// ReportPath is the report endpoint, relative to the base URL.
const ReportPath = "/v1/report/emspFaultyBookings"

// Defaults used when the corresponding Client or Retry field is zero.
const (
	DefaultMaxBody       = 256 << 20
	DefaultAttempts      = 4
	DefaultBackoff       = 2 * time.Second
	DefaultMaxBackoff    = time.Minute
	DefaultMaxRetryAfter = 5 * time.Minute
	DefaultTimeout       = 5 * time.Minute
	// ErrorBodyCap is how much of a failing response body an Error keeps for diagnosis.
	ErrorBodyCap = 64 << 10
)

// Retry is the retry policy for transient failures.
type Retry struct {
	// Attempts is the total number of attempts, the first included. Default 4.
	Attempts int
	// Backoff is the wait after the first failure; it doubles after each. Default 2s.
	Backoff time.Duration
	// MaxBackoff caps one backoff wait. Default 1m.
	MaxBackoff time.Duration
	// MaxRetryAfter caps the wait a 429's Retry-After asks for. Default 5m.
	MaxRetryAfter time.Duration
}

// Client fetches faulty-booking reports. The zero value needs BaseURL and Token.
type Client struct {
	// BaseURL is CHARGECLOUD_URL, e.g. "https://api.chargecloud.example".
	BaseURL string
	// Token is CHARGECLOUD_TOKEN, sent as a Bearer token.
	Token string
	// HTTP is the client used; nil means one with a DefaultTimeout per attempt.
	HTTP *http.Client
	// MaxBody caps the report size in bytes. Default DefaultMaxBody.
	MaxBody int64
	// Retry is the retry policy.
	Retry Retry
	// Logger receives one line per failed attempt (status and reason, never report content).
	Logger *slog.Logger
}

// Report is a downloaded report workbook.
type Report struct {
	// Body is the .xlsx file; it opens as a zip archive holding a workbook.
	Body []byte
	// From and To are the requested range (UTC, half-open).
	From, To time.Time
	// Attempts is how many requests it took.
	Attempts int
}

// Error is a failed fetch. Permanent errors must not be retried by the caller either.
type Error struct {
	// Permanent is true when retrying cannot help (rejected token, bad request, too large).
	Permanent bool
	// Reason says what went wrong, for staff.
	Reason string
	// Status is the last HTTP status, 0 when no response arrived.
	Status int
	// Attempts is how many requests were made.
	Attempts int
	// Body is the start (at most ErrorBodyCap bytes) of the last failing response body.
	Body []byte
	// Err is the underlying error, if any.
	Err error
}

// Error returns the reason with the status and attempt count.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("chargecloud: ")
	b.WriteString(e.Reason)
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ReasonTokenRejected is the reason given when ChargeCloud answers 401 or 403.
const ReasonTokenRejected = "ChargeCloud rejected the API token"

// FetchPeriod fetches the report for one calendar month in loc (EMSP_TZ; nil means UTC).
func (c *Client) FetchPeriod(ctx context.Context, p faulty.Period, loc *time.Location) (*Report, error) {
	from, to := p.Range(loc)
	return c.FetchReport(ctx, from, to)
}

// FetchReport fetches the report for [from, to), retrying transient failures with backoff.
// Failures are returned as *Error.
func (c *Client) FetchReport(ctx context.Context, from, to time.Time) (*Report, error) {
	if c.BaseURL == "" || c.Token == "" {
		return nil, &Error{Permanent: true, Reason: "ChargeCloud URL or API token is not configured"}
	}
	body, err := json.Marshal(map[string]any{
		"payment_status": faulty.PaymentActionRequired,
		"excel":          true,
		"from":           from.UTC().Format(time.RFC3339),
		"to":             to.UTC().Format(time.RFC3339),
	})
	if err != nil {
		return nil, &Error{Permanent: true, Reason: "cannot encode request", Err: err}
	}
	r := c.retry()
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var last *Error
	for attempt := 1; ; attempt++ {
		b, wait, ferr := c.attempt(ctx, body, r)
		if ferr == nil {
			return &Report{Body: b, From: from.UTC(), To: to.UTC(), Attempts: attempt}, nil
		}
		ferr.Attempts = attempt
		last = ferr
		if ferr.Permanent || attempt >= r.Attempts || ctx.Err() != nil {
			break
		}
		if wait == 0 {
			wait = backoff(r, attempt)
		}
		log.WarnContext(ctx, "chargecloud report attempt failed",
			"attempt", attempt, "status", ferr.Status, "reason", ferr.Reason, "retry_in", wait.String())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			last.Err = errors.Join(last.Err, ctx.Err())
			return nil, last
		case <-t.C:
		}
	}
	log.ErrorContext(ctx, "chargecloud report failed", "attempts", last.Attempts, "status", last.Status, "reason", last.Reason, "permanent", last.Permanent)
	return nil, last
}

func (c *Client) retry() Retry {
	r := c.Retry
	if r.Attempts <= 0 {
		r.Attempts = DefaultAttempts
	}
	if r.Backoff <= 0 {
		r.Backoff = DefaultBackoff
	}
	if r.MaxBackoff <= 0 {
		r.MaxBackoff = DefaultMaxBackoff
	}
	if r.MaxRetryAfter <= 0 {
		r.MaxRetryAfter = DefaultMaxRetryAfter
	}
	return r
}

// backoff returns the wait after the given failed attempt: Backoff doubled per attempt, capped,
// with up to 10% jitter so several processes do not retry in step.
func backoff(r Retry, attempt int) time.Duration {
	d := r.Backoff
	for i := 1; i < attempt && d < r.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, r.MaxBackoff)
	return d + time.Duration(rand.Int64N(int64(d)/10+1))
}

// attempt makes one request. On failure it returns the error and, for a 429, the wait asked for.
func (c *Client) attempt(ctx context.Context, body []byte, r Retry) ([]byte, time.Duration, *Error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.BaseURL, "/")+ReportPath, bytes.NewReader(body))
	if err != nil {
		return nil, 0, &Error{Permanent: true, Reason: "invalid ChargeCloud URL", Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, &Error{Reason: "request failed", Err: err}
	}
	defer resp.Body.Close()

	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, 0, &Error{Permanent: true, Reason: ReasonTokenRejected, Status: resp.StatusCode, Body: capped(resp.Body)}
	case resp.StatusCode == http.StatusTooManyRequests:
		wait := min(retryAfter(resp.Header.Get("Retry-After"), time.Now()), r.MaxRetryAfter)
		return nil, wait, &Error{Reason: "rate limited by ChargeCloud", Status: resp.StatusCode, Body: capped(resp.Body)}
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout:
		return nil, 0, &Error{Reason: "ChargeCloud server error", Status: resp.StatusCode, Body: capped(resp.Body)}
	case resp.StatusCode != http.StatusOK:
		return nil, 0, &Error{Permanent: true, Reason: "unexpected HTTP status from ChargeCloud", Status: resp.StatusCode, Body: capped(resp.Body)}
	}

	maxBody := c.MaxBody
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	if resp.ContentLength > maxBody {
		return nil, 0, &Error{Permanent: true, Reason: fmt.Sprintf("report of %d bytes exceeds the %d-byte limit", resp.ContentLength, maxBody), Status: resp.StatusCode}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, 0, &Error{Reason: "truncated body", Status: resp.StatusCode, Body: capBytes(b), Err: err}
	}
	if int64(len(b)) > maxBody {
		return nil, 0, &Error{Permanent: true, Reason: fmt.Sprintf("report exceeds the %d-byte limit", maxBody), Status: resp.StatusCode}
	}
	if reason := checkXLSX(b); reason != "" {
		return nil, 0, &Error{Reason: reason, Status: resp.StatusCode, Body: capBytes(b)}
	}
	return b, 0, nil
}

// checkXLSX returns why b is not an .xlsx workbook, or "".
func checkXLSX(b []byte) string {
	if len(b) == 0 {
		return "empty body"
	}
	if !bytes.HasPrefix(b, []byte("PK\x03\x04")) {
		return "response is not an .xlsx file"
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return "truncated or corrupt .xlsx file"
	}
	for _, f := range zr.File {
		if strings.EqualFold(f.Name, "xl/workbook.xml") {
			return ""
		}
	}
	return "zip file holds no workbook"
}

func capped(r io.Reader) []byte {
	b, _ := io.ReadAll(io.LimitReader(r, ErrorBodyCap))
	return b
}

func capBytes(b []byte) []byte {
	return bytes.Clone(b[:min(len(b), ErrorBodyCap)])
}

// retryAfter parses a Retry-After value (delay seconds or an HTTP date) into a wait from now;
// a missing or unparsable value gives 0, meaning the normal backoff.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
