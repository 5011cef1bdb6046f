package auth

import (
	"fmt"
	"strings"
	"testing"
)

var fast = Params{Memory: 1024, Time: 1, Threads: 1}

func TestPasswordRoundTrip(t *testing.T) {
	t.Parallel()
	h, err := HashPassword("correct horse battery", fast)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("hash %q is not PHC argon2id", h)
	}
	for pw, want := range map[string]bool{"correct horse battery": true, "correct horse batterY": false, "": false} {
		ok, err := VerifyPassword(h, pw)
		if err != nil || ok != want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	h2, _ := HashPassword("correct horse battery", fast)
	if h == h2 {
		t.Fatal("two hashes of one password must differ (salt)")
	}
}

func TestVerifyRejectsForeignHashes(t *testing.T) {
	t.Parallel()
	for _, h := range []string{"", "plain", "$2a$10$abcdefghijklmnopqrstuv", "$argon2id$v=19$m=x$a$b"} {
		if _, err := VerifyPassword(h, "x"); err != ErrBadHash {
			t.Errorf("VerifyPassword(%q) err = %v; want ErrBadHash", h, err)
		}
	}
}

func TestRoles(t *testing.T) {
	t.Parallel()
	cases := []struct {
		have, need Role
		want       bool
	}{
		{Viewer, Viewer, true}, {Viewer, Finance, false}, {Viewer, Admin, false},
		{Finance, Viewer, true}, {Finance, Finance, true}, {Finance, Admin, false},
		{Admin, Viewer, true}, {Admin, Finance, true}, {Admin, Admin, true},
		{"", Viewer, false}, {"root", Viewer, false},
	}
	for _, c := range cases {
		if got := c.have.Allows(c.need); got != c.want {
			t.Errorf("%q.Allows(%q) = %v", c.have, c.need, got)
		}
	}
	if r, err := ParseRole(" Finance "); err != nil || r != Finance {
		t.Errorf("ParseRole = %q, %v", r, err)
	}
	if _, err := ParseRole("owner"); err == nil {
		t.Error("ParseRole(owner) must fail")
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	tok, hash, display, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, TokenPrefix) || len(tok) != len(TokenPrefix)+64 {
		t.Fatalf("token %q", tok)
	}
	if string(HashToken(tok)) != string(hash) || !strings.HasPrefix(tok, display) {
		t.Fatal("hash or display prefix do not match the token")
	}
	tok2, _, _, _ := NewToken()
	if tok == tok2 {
		t.Fatal("tokens must be random")
	}
}

func TestThrottle(t *testing.T) {
	t.Parallel()
	th := DefaultThrottle
	if th.Blocked(4, 19) || !th.Blocked(5, 0) || !th.Blocked(0, 20) {
		t.Fatal("throttle limits wrong")
	}
}

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	if CheckPasswordPolicy("short") == "" || CheckPasswordPolicy("long enough pw") != "" {
		t.Fatal("policy wrong")
	}
}

func ExampleRole_Allows() {
	fmt.Println(Finance.Allows(Viewer), Finance.Allows(Admin))
	// Output: true false
}
