package config

import (
	"os"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != DefaultDatabaseURL || c.EZPassTZ.String() != "America/New_York" || c.SendHour != 9 || c.MaxUploadMB != 100 {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if c.SecureCookies {
		t.Fatal("http base URL must not set Secure cookies")
	}
}

func TestLoadReportsEveryBadValue(t *testing.T) {
	t.Parallel()
	_, err := Load(env(map[string]string{"SEND_HOUR": "25", "EMSP_TZ": "Mars/Olympus", "MAX_UPLOAD_MB": "x"}))
	if err == nil {
		t.Fatal("expected an error")
	}
	for _, want := range []string{"SEND_HOUR", "EMSP_TZ", "MAX_UPLOAD_MB"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func TestHTTPSBaseURLSetsSecureCookies(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"BASE_URL": "https://recondesk.example.com/"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.SecureCookies || c.BaseURL != "https://recondesk.example.com" {
		t.Fatalf("got %+v", c)
	}
}

func TestEnvExampleIsCurrent(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != EnvExample() {
		t.Fatal(".env.example is stale: run make generate")
	}
}
