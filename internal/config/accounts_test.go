package config

import (
	"slices"
	"strings"
	"testing"
)

func TestLoadEZPassAccounts(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"EZPASS_ACCOUNTS": " Main, FLEET2 ,,main"}))
	if err != nil || !slices.Equal(c.EZPassAccounts, []string{"main", "fleet2"}) || c.EZPassAccount != "main" {
		t.Fatalf("accounts %q default %q (%v); want [main fleet2] and main", c.EZPassAccounts, c.EZPassAccount, err)
	}
	// Without EZPASS_ACCOUNT the default is the first configured account.
	if c, err := Load(env(map[string]string{"EZPASS_ACCOUNTS": "fleet2"})); err != nil || c.EZPassAccount != "fleet2" {
		t.Errorf("default %q (%v); want fleet2", c.EZPassAccount, err)
	}
	// An explicit default outside the list is a configuration error.
	if _, err := Load(env(map[string]string{"EZPASS_ACCOUNTS": "fleet2", "EZPASS_ACCOUNT": "main"})); err == nil ||
		!strings.Contains(err.Error(), "EZPASS_ACCOUNT=\"main\" must be one of EZPASS_ACCOUNTS (fleet2)") {
		t.Errorf("default outside the list: %v", err)
	}
	// Empty accepts any account.
	if c, err := Load(env(nil)); err != nil || c.EZPassAccounts != nil || c.EZPassAccount != "main" {
		t.Errorf("defaults: %q %q %v", c.EZPassAccounts, c.EZPassAccount, err)
	}
}
