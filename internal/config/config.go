// Package config reads Recondesk's settings from the environment; it is the
// only code that does.
package config

import (
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultDatabaseURL is used when DATABASE_URL is empty.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/recondesk?sslmode=disable"

// Config is every setting Recondesk reads from its environment.
type Config struct {
	DatabaseURL string
	Addr        string
	// MetricsAddr serves /metrics on its own listener; empty turns it off
	// (admins can still read /metrics through the app).
	MetricsAddr string
	BaseURL     string
	// SecureCookies marks the session cookie Secure; on when BaseURL is https.
	SecureCookies bool
	LogLevel      string

	MongoURI      string
	MongoDatabase string
	// MongoChunk is how many booking ids one MongoDB $in query asks for.
	MongoChunk int

	ChargeCloudURL   string
	ChargeCloudToken string

	SMTPURL    string
	MailFrom   string
	MailDomain string

	EMSPTZ   *time.Location
	EZPassTZ *time.Location
	// DisplayTZ is the one zone every time a person reads is shown in.
	DisplayTZ *time.Location
	SendHour  int

	MaxUploadMB int64
	DataDir     string

	DemoAdminEmail    string
	DemoAdminPassword string

	// EZPassAutoPost posts associated tolls automatically after association.
	EZPassAutoPost bool
	// EZPassAccount is the account of imports that name none (lower case).
	EZPassAccount string
	// EZPassAccounts are the E-ZPass account labels imports may name, lower
	// case; empty accepts any label.
	EZPassAccounts []string

	// PruneInterval is how often expired sessions and sign-in failures are deleted.
	PruneInterval time.Duration

	// IMAPURL is the finance mailbox partner replies arrive in
	// (imap[s]://user:pass@host[:port]/MAILBOX); empty turns inbox.poll off.
	IMAPURL string
	// IMAPMoveTo names the folder processed mail is moved to; empty leaves it in place.
	IMAPMoveTo string
	// PartnerReplyGrace is how many business days a human partner reply pauses the ladder.
	PartnerReplyGrace int
}

// Var documents one environment variable, for .env.example and the README.
type Var struct {
	Name, Default, Help string
}

// Vars lists every variable Load reads, with its default.
var Vars = []Var{
	{"DATABASE_URL", DefaultDatabaseURL, "PostgreSQL connection string (the database is created by `dev` if missing)"},
	{"ADDR", "127.0.0.1:8080", "HTTP listen address"},
	{"METRICS_ADDR", "", "listen address of a separate /metrics endpoint for Prometheus, e.g. 127.0.0.1:9090; empty turns it off (admins can still read /metrics)"},
	{"BASE_URL", "", "public URL (default http://ADDR); https turns on Secure cookies"},
	{"LOG_LEVEL", "info", "debug, info, warn or error"},
	{"MONGODB_URI", "", "EMSP MongoDB; empty in `dev` starts the embedded MongoDB-compatible server"},
	{"MONGODB_DATABASE", "emsp", "database holding the chargerbookings collection"},
	{"MONGODB_CHUNK", "1000", "booking ids per MongoDB $in query"},
	{"CHARGECLOUD_URL", "", "ChargeCloud API base URL; empty in `dev` starts the simulator"},
	{"CHARGECLOUD_TOKEN", "", "ChargeCloud API bearer token (secret)"},
	{"SMTP_URL", "", "smtp://user:pass@host:port; empty in `dev` starts the embedded SMTP sink"},
	{"MAIL_FROM", "Recondesk Finance <finance@recondesk.local>", "From address of partner emails"},
	{"MAIL_DOMAIN", "recondesk.local", "domain of generated Message-IDs"},
	{"EMSP_TZ", "UTC", "time zone of faulty-booking periods and windows"},
	{"EZPASS_TZ", "America/New_York", "time zone of E-ZPass wall-clock times"},
	{"DISPLAY_TZ", "America/New_York", "time zone of every time shown to people (with its abbreviation)"},
	{"EZPASS_ACCOUNT", "main", "E-ZPass account used when an import names none"},
	{"EZPASS_ACCOUNTS", "", "comma-separated E-ZPass accounts an import may name, case-insensitive (e.g. main,fleet2); empty accepts any name. A toll already stored under one account is never stored or posted again under another"},
	{"EZPASS_AUTO_POST", "true", "post associated tolls automatically (false: only on the Post button)"},
	{"SEND_HOUR", "9", "local hour at which ladder emails are sent"},
	{"MAX_UPLOAD_MB", "100", "largest accepted upload"},
	{"DATA_DIR", ".data", "where `dev` keeps the embedded servers' data"},
	{"DEMO_ADMIN_EMAIL", "admin@recondesk.local", "demo admin created by `dev`"},
	{"DEMO_ADMIN_PASSWORD", "recondesk-demo", "demo admin password (dev only)"},
	{"IMAP_URL", "", "finance mailbox for partner replies, imaps://user:pass@host/INBOX (secret); empty turns polling off, `dev` starts an in-process server"},
	{"IMAP_MOVE_TO", "", "folder processed mail is moved to; empty never moves or deletes mail"},
	{"PARTNER_REPLY_GRACE", "5", "business days a human partner reply pauses the escalation ladder"},
	{"PRUNE_INTERVAL", "1h", "how often the maintenance.prune job deletes expired sessions and sign-in failures"},
}

// Load reads the configuration through getenv, applying defaults and
// reporting every invalid value at once.
func Load(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		for _, v := range Vars {
			if v.Name == name {
				return v.Default
			}
		}
		return ""
	}
	var errs []string
	atoi := func(name string, lo, hi int) int {
		n, err := strconv.Atoi(get(name))
		if err != nil || n < lo || n > hi {
			errs = append(errs, fmt.Sprintf("%s=%q must be a whole number from %d to %d", name, get(name), lo, hi))
		}
		return n
	}
	loc := func(name string) *time.Location {
		l, err := time.LoadLocation(get(name))
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s=%q is not a known time zone (use a name like Europe/Berlin)", name, get(name)))
			return time.UTC
		}
		return l
	}
	c := Config{
		DatabaseURL:       get("DATABASE_URL"),
		Addr:              get("ADDR"),
		MetricsAddr:       get("METRICS_ADDR"),
		BaseURL:           strings.TrimRight(get("BASE_URL"), "/"),
		LogLevel:          get("LOG_LEVEL"),
		MongoURI:          get("MONGODB_URI"),
		MongoDatabase:     get("MONGODB_DATABASE"),
		MongoChunk:        atoi("MONGODB_CHUNK", 1, 100000),
		ChargeCloudURL:    strings.TrimRight(get("CHARGECLOUD_URL"), "/"),
		ChargeCloudToken:  get("CHARGECLOUD_TOKEN"),
		SMTPURL:           get("SMTP_URL"),
		MailFrom:          get("MAIL_FROM"),
		MailDomain:        get("MAIL_DOMAIN"),
		EMSPTZ:            loc("EMSP_TZ"),
		EZPassTZ:          loc("EZPASS_TZ"),
		DisplayTZ:         loc("DISPLAY_TZ"),
		SendHour:          atoi("SEND_HOUR", 0, 23),
		MaxUploadMB:       int64(atoi("MAX_UPLOAD_MB", 1, 10000)),
		DataDir:           get("DATA_DIR"),
		DemoAdminEmail:    get("DEMO_ADMIN_EMAIL"),
		DemoAdminPassword: get("DEMO_ADMIN_PASSWORD"),
		IMAPURL:           get("IMAP_URL"),
		IMAPMoveTo:        get("IMAP_MOVE_TO"),
		PartnerReplyGrace: atoi("PARTNER_REPLY_GRACE", 1, 60),
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Addr
	}
	switch get("EZPASS_AUTO_POST") {
	case "true":
		c.EZPassAutoPost = true
	case "false":
	default:
		errs = append(errs, fmt.Sprintf("EZPASS_AUTO_POST=%q must be true or false", get("EZPASS_AUTO_POST")))
	}
	c.EZPassAccount = strings.ToLower(get("EZPASS_ACCOUNT"))
	for _, a := range strings.Split(get("EZPASS_ACCOUNTS"), ",") {
		if a = strings.ToLower(strings.TrimSpace(a)); a != "" && !slices.Contains(c.EZPassAccounts, a) {
			c.EZPassAccounts = append(c.EZPassAccounts, a)
		}
	}
	if len(c.EZPassAccounts) > 0 && !slices.Contains(c.EZPassAccounts, c.EZPassAccount) {
		if strings.TrimSpace(getenv("EZPASS_ACCOUNT")) != "" {
			errs = append(errs, fmt.Sprintf("EZPASS_ACCOUNT=%q must be one of EZPASS_ACCOUNTS (%s)", c.EZPassAccount, strings.Join(c.EZPassAccounts, ", ")))
		}
		c.EZPassAccount = c.EZPassAccounts[0]
	}
	if d, err := time.ParseDuration(get("PRUNE_INTERVAL")); err != nil || d < time.Second {
		errs = append(errs, fmt.Sprintf("PRUNE_INTERVAL=%q must be a duration of at least 1s, like 1h", get("PRUNE_INTERVAL")))
	} else {
		c.PruneInterval = d
	}
	if c.IMAPURL != "" {
		if u, err := url.Parse(c.IMAPURL); err != nil || (u.Scheme != "imap" && u.Scheme != "imaps") || u.Host == "" {
			errs = append(errs, "IMAP_URL must look like imaps://user:pass@host/INBOX")
		}
	}
	c.SecureCookies = strings.HasPrefix(c.BaseURL, "https://")
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Sprintf("LOG_LEVEL=%q must be debug, info, warn or error", c.LogLevel))
	}
	if _, err := mail.ParseAddress(c.MailFrom); err != nil {
		errs = append(errs, fmt.Sprintf("MAIL_FROM=%q is not an email address", c.MailFrom))
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("invalid configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// EnvExample renders the .env.example file from Vars.
func EnvExample() string {
	var b strings.Builder
	b.WriteString("# Recondesk configuration. Every variable is optional; the value shown is the default.\n")
	b.WriteString("# Generated from internal/config (make generate). Secrets come only from the environment.\n\n")
	for _, v := range Vars {
		fmt.Fprintf(&b, "# %s\n%s=%s\n\n", v.Help, v.Name, v.Default)
	}
	return b.String()
}
