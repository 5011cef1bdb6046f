package chargecloud_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"recondesk/internal/chargecloud"
	"recondesk/internal/chargecloud/chargecloudsim"
	"recondesk/internal/faulty"
)

var oct2026 = faulty.Period{Year: 2026, Month: time.October}

// bundle is what setup returns.
type bundle struct {
	sim    *chargecloudsim.Sim
	srv    *httptest.Server
	client *chargecloud.Client
}

// setup starts a small simulator and a client with fast retries.
func setup(t *testing.T) bundle {
	t.Helper()
	sim := chargecloudsim.New(chargecloudsim.Options{
		BookingsPerPeriod: 50, Partners: 3, Periods: []faulty.Period{oct2026},
		Now: func() time.Time { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) },
	})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return bundle{sim: sim, srv: srv, client: &chargecloud.Client{
		BaseURL: srv.URL, Token: sim.Token(), HTTP: srv.Client(),
		Retry: chargecloud.Retry{Attempts: 3, Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxRetryAfter: 30 * time.Millisecond},
	}}
}

func asError(t *testing.T, err error) *chargecloud.Error {
	t.Helper()
	var ce *chargecloud.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *chargecloud.Error", err, err)
	}
	return ce
}

func countRows(t *testing.T, r *chargecloud.Report) int {
	t.Helper()
	rr, err := faulty.ReadReport(bytes.NewReader(r.Body), int64(len(r.Body)), faulty.ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	n := 0
	for {
		_, err := rr.Next()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
}

func TestFetchPeriodRequest(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	sim := chargecloudsim.New(chargecloudsim.Options{BookingsPerPeriod: 10, Periods: []faulty.Period{oct2026}, Location: berlin})
	var gotBody map[string]any
	var gotAuth, gotType string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &gotBody)
		gotAuth, gotType = r.Header.Get("Authorization"), r.Header.Get("Content-Type")
		r.Body = io.NopCloser(bytes.NewReader(b))
		sim.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c := &chargecloud.Client{BaseURL: srv.URL + "/", Token: sim.Token(), HTTP: srv.Client()}
	rep, err := c.FetchPeriod(context.Background(), oct2026, berlin)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"payment_status": "action_required", "excel": true, "from": "2026-09-30T22:00:00Z", "to": "2026-10-31T23:00:00Z"}
	for k, v := range want {
		if gotBody[k] != v {
			t.Errorf("body[%s] = %v, want %v", k, gotBody[k], v)
		}
	}
	if len(gotBody) != len(want) {
		t.Errorf("body has keys %v", gotBody)
	}
	if gotAuth != "Bearer "+chargecloudsim.DefaultToken || gotType != "application/json" {
		t.Errorf("Authorization %q, Content-Type %q", gotAuth, gotType)
	}
	if rep.Attempts != 1 || countRows(t, rep) != 10 {
		t.Errorf("attempts %d, rows %d; want 1 and 10", rep.Attempts, countRows(t, rep))
	}
}

func TestFetchReportFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		inject        func(b bundle)
		wantErr       bool
		wantPermanent bool
		wantReason    string
		wantStatus    int
		wantRequests  int
		wantBody      string
	}{
		{name: "ok", inject: func(bundle) {}, wantRequests: 1},
		{name: "wrong token", inject: func(b bundle) { b.client.Token = "stolen" },
			wantErr: true, wantPermanent: true, wantReason: chargecloud.ReasonTokenRejected, wantStatus: 401, wantRequests: 1},
		{name: "403", inject: func(b bundle) { b.sim.FailNext(-1, 403, "") },
			wantErr: true, wantPermanent: true, wantReason: chargecloud.ReasonTokenRejected, wantStatus: 403, wantRequests: 1},
		{name: "500 then ok", inject: func(b bundle) { b.sim.FailNext(2, 500, "") }, wantRequests: 3},
		{name: "500 always", inject: func(b bundle) { b.sim.FailNext(-1, 500, "") },
			wantErr: true, wantReason: "ChargeCloud server error", wantStatus: 500, wantRequests: 3, wantBody: "500 Internal Server Error"},
		{name: "429 then ok", inject: func(b bundle) { b.sim.FailNext(1, 429, "1") }, wantRequests: 2},
		{name: "429 always", inject: func(b bundle) { b.sim.FailNext(-1, 429, "2") },
			wantErr: true, wantReason: "rate limited", wantStatus: 429, wantRequests: 3},
		{name: "truncated then ok", inject: func(b bundle) { b.sim.TruncateNext(1) }, wantRequests: 2},
		{name: "truncated always", inject: func(b bundle) { b.sim.TruncateNext(99) },
			wantErr: true, wantReason: "truncated body", wantStatus: 200, wantRequests: 3},
		{name: "html instead of xlsx", inject: func(b bundle) { b.sim.FailNext(-1, 200, "") },
			wantErr: true, wantReason: "response is not an .xlsx file", wantStatus: 200, wantRequests: 3, wantBody: "<html>"},
		{name: "404 is permanent", inject: func(b bundle) { b.sim.FailNext(-1, 404, "") },
			wantErr: true, wantPermanent: true, wantReason: "unexpected HTTP status", wantStatus: 404, wantRequests: 1},
		{name: "timeout", inject: func(b bundle) {
			b.sim.SetLatency(300 * time.Millisecond)
			b.client.HTTP = &http.Client{Timeout: 30 * time.Millisecond}
		}, wantErr: true, wantReason: "request failed", wantRequests: 3},
		{name: "too large is permanent", inject: func(b bundle) { b.client.MaxBody = 1000 },
			wantErr: true, wantPermanent: true, wantReason: "exceeds the 1000-byte limit", wantStatus: 200, wantRequests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			tt.inject(b)
			rep, err := b.client.FetchPeriod(context.Background(), oct2026, nil)
			if got := b.sim.Requests(); got != tt.wantRequests {
				t.Errorf("simulator saw %d requests, want %d", got, tt.wantRequests)
			}
			if !tt.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				if rep.Attempts != tt.wantRequests || countRows(t, rep) != 50 {
					t.Fatalf("attempts %d, want %d", rep.Attempts, tt.wantRequests)
				}
				return
			}
			ce := asError(t, err)
			if ce.Permanent != tt.wantPermanent || !strings.Contains(ce.Reason, tt.wantReason) || ce.Status != tt.wantStatus || ce.Attempts != tt.wantRequests {
				t.Fatalf("error = %+v; want permanent %v, reason %q, status %d, attempts %d", ce, tt.wantPermanent, tt.wantReason, tt.wantStatus, tt.wantRequests)
			}
			if !strings.Contains(string(ce.Body), tt.wantBody) {
				t.Errorf("body %q does not contain %q", ce.Body, tt.wantBody)
			}
			if !strings.Contains(err.Error(), tt.wantReason) {
				t.Errorf("message %q does not name the reason", err)
			}
		})
	}
}

func TestRetryAfterIsHonouredAndCapped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retryAfter string
		cap        time.Duration
		min, max   time.Duration
	}{
		{"seconds capped", "3600", 80 * time.Millisecond, 80 * time.Millisecond, 2 * time.Second},
		{"http date capped", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), 80 * time.Millisecond, 80 * time.Millisecond, 2 * time.Second},
		{"one second", "1", 5 * time.Second, time.Second, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.client.Retry.MaxRetryAfter = tt.cap
			b.client.Retry.Backoff = time.Millisecond
			b.sim.FailNext(1, 429, tt.retryAfter)
			start := time.Now()
			if _, err := b.client.FetchPeriod(context.Background(), oct2026, nil); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d < tt.min || d > tt.max {
				t.Fatalf("took %v, want between %v and %v", d, tt.min, tt.max)
			}
		})
	}
}

func TestErrorBodyIsCapped(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 200<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, big)
	}))
	defer srv.Close()
	c := &chargecloud.Client{BaseURL: srv.URL, Token: "t", HTTP: srv.Client(), Retry: chargecloud.Retry{Attempts: 1}}
	_, err := c.FetchReport(context.Background(), time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	ce := asError(t, err)
	if len(ce.Body) != chargecloud.ErrorBodyCap || ce.Status != 502 || ce.Permanent {
		t.Fatalf("body %d bytes, status %d, permanent %v; want %d, 502, false", len(ce.Body), ce.Status, ce.Permanent, chargecloud.ErrorBodyCap)
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.client.Retry = chargecloud.Retry{Attempts: 5, Backoff: time.Hour, MaxBackoff: time.Hour}
	b.sim.FailNext(-1, 503, "")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := b.client.FetchPeriod(ctx, oct2026, nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("err %v after %v, want a prompt deadline error", err, time.Since(start))
	}
	if ce := asError(t, err); ce.Status != 503 || ce.Attempts != 1 {
		t.Fatalf("error = %+v, want the 503 of attempt 1", ce)
	}
}

func TestNotConfigured(t *testing.T) {
	t.Parallel()
	_, err := (&chargecloud.Client{}).FetchPeriod(context.Background(), oct2026, nil)
	if ce := asError(t, err); !ce.Permanent {
		t.Fatalf("error = %+v, want permanent", ce)
	}
}

func ExampleClient_FetchPeriod() {
	sim := chargecloudsim.New(chargecloudsim.Options{BookingsPerPeriod: 25, Periods: []faulty.Period{oct2026}})
	srv := httptest.NewServer(sim)
	defer srv.Close()

	c := &chargecloud.Client{BaseURL: srv.URL, Token: sim.Token()}
	rep, err := c.FetchPeriod(context.Background(), oct2026, time.UTC)
	var ce *chargecloud.Error
	if errors.As(err, &ce) {
		fmt.Println("failed:", ce.Reason, "permanent:", ce.Permanent)
		return
	}
	fmt.Println(rep.Attempts, rep.From.Format(time.RFC3339), rep.To.Format(time.RFC3339), bytes.HasPrefix(rep.Body, []byte("PK")))
	// Output: 1 2026-10-01T00:00:00Z 2026-11-01T00:00:00Z true
}
