package web

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"recondesk/internal/auth"
)

// TestReadyzHidesErrorsFromAnonymousCallers: the raw error (user, database,
// port) goes to the log, the response says only "down".
func TestReadyzHidesErrorsFromAnonymousCallers(t *testing.T) {
	t.Parallel()
	var log syncBuffer
	raw := `failed to connect to user=postgres database=recondesk port=5432`
	b := setup(t, setupOpts{log: &log, checks: []Check{{Name: "mongodb", Probe: func(context.Context) error { return errors.New(raw) }}}})
	resp, body := b.get(t, b.client(t), "/readyz")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `"mongodb": "down"`) {
		t.Fatalf("readyz = %d %s", resp.StatusCode, body)
	}
	for _, leak := range []string{"postgres database", "user=", "port=", "failed to connect"} {
		if strings.Contains(body, leak) {
			t.Fatalf("readyz shows %q: %s", leak, body)
		}
	}
	if !strings.Contains(log.String(), "database=recondesk port=5432") {
		t.Fatal("the reason was not logged")
	}
}

// TestMetricsOnlyForAdmins: /metrics on the app's address needs an admin.
func TestMetricsOnlyForAdmins(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if resp, _ := b.get(t, b.client(t), "/metrics"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("anonymous /metrics = %d; want 303 to sign in", resp.StatusCode)
	}
	if resp, _ := b.get(t, b.login(t, auth.Finance), "/metrics"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("finance /metrics = %d; want 403", resp.StatusCode)
	}
	resp, body := b.get(t, b.login(t, auth.Admin), "/metrics")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "# TYPE") {
		t.Fatalf("admin /metrics = %d", resp.StatusCode)
	}
}

// syncBuffer collects log lines written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
