package mail_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"testing"
	"time"

	"recondesk/internal/devstack"
	"recondesk/internal/mail"
)

// testTLS returns a server config with a fresh self-signed certificate for 127.0.0.1 and a
// client config that trusts only that certificate.
func testTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "recondesk test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("CreateCertificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("ParseCertificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	client = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return server, client
}

func TestSend_TLS(t *testing.T) {
	t.Parallel()
	serverTLS, clientTLS := testTLS(t)

	tests := []struct {
		name      string
		server    devstack.SMTPOptions
		query     string
		wantTLS   bool
		wantError bool
	}{
		{"smtps", devstack.SMTPOptions{TLSConfig: serverTLS, ImplicitTLS: true}, "", true, false},
		{"opportunistic STARTTLS upgrades", devstack.SMTPOptions{TLSConfig: serverTLS}, "", true, false},
		{"mandatory STARTTLS", devstack.SMTPOptions{TLSConfig: serverTLS}, "?starttls=mandatory", true, false},
		{"starttls=none stays plain", devstack.SMTPOptions{TLSConfig: serverTLS}, "?starttls=none", false, false},
		{"mandatory STARTTLS refuses a plain server", devstack.SMTPOptions{}, "?starttls=mandatory", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, err := devstack.StartSMTP(tt.server)
			if err != nil {
				t.Fatalf("StartSMTP: %v", err)
			}
			t.Cleanup(func() { _ = srv.Close() })
			snd, err := mail.NewSender(srv.URL()+tt.query, mail.SenderOptions{Timeout: 5 * time.Second, TLSConfig: clientTLS})
			if err != nil {
				t.Fatalf("NewSender: %v", err)
			}

			_, err = snd.Send(context.Background(), threadMessage(t, 1))
			if tt.wantError {
				if !errors.Is(err, mail.ErrConnect) || mail.Classify(err) != mail.Temporary {
					t.Fatalf("err = %v (%v), want ErrConnect (temporary)", err, mail.Classify(err))
				}
				if n := len(srv.Messages()); n != 0 {
					t.Errorf("server received %d messages, want 0", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 || msgs[0].TLS != tt.wantTLS {
				t.Fatalf("received %d messages, TLS = %v; want 1 with TLS = %v", len(msgs), len(msgs) == 1 && msgs[0].TLS, tt.wantTLS)
			}
		})
	}

	// A client that does not trust the certificate must not send.
	srv, err := devstack.StartSMTP(devstack.SMTPOptions{TLSConfig: serverTLS, ImplicitTLS: true})
	if err != nil {
		t.Fatalf("StartSMTP: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	snd, err := mail.NewSender(srv.URL(), mail.SenderOptions{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("NewSender: %v", err)
	}
	if _, err := snd.Send(context.Background(), threadMessage(t, 1)); !errors.Is(err, mail.ErrConnect) {
		t.Errorf("untrusted certificate: err = %v, want ErrConnect", err)
	}
}
