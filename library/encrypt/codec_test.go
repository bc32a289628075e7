package encrypt

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

const testTTL = 24 * time.Hour

var testNow = time.Unix(1_700_000_000, 0)

func newTestCodec(secret string) *Codec {
	c := New(secret, testTTL)
	c.Now = func() time.Time { return testNow }
	return c
}

// seal builds a token around any plaintext, so tests can reach the checks
// that Mint refuses to produce input for.
func seal(c *Codec, plain string) string {
	nonce := make([]byte, nonceSize)
	return base64.RawURLEncoding.EncodeToString(c.aead.Seal(nonce, nonce, []byte(plain), nil))
}

func TestRoundTrip(t *testing.T) {
	c := newTestCodec("s3cret")
	want := Claims{ID: "o6_bmjrPTlm6", Type: TypeWechatUser, Code: "room1", Nickname: "Ann <&> \"B\" 客服", Ctime: testNow.Unix() - 5}
	tok, err := c.Mint(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Parse([]byte(tok))
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("Parse = %+v, want %+v", got, want)
	}
}

func TestMintFillsCtime(t *testing.T) {
	c := newTestCodec("s3cret")
	tok, err := c.Mint(Claims{ID: "1", Type: TypeWall})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Parse([]byte(tok))
	if err != nil {
		t.Fatal(err)
	}
	if got.Ctime != testNow.Unix() {
		t.Fatalf("Ctime = %d, want %d", got.Ctime, testNow.Unix())
	}
}

func TestMintRefuses(t *testing.T) {
	c := newTestCodec("s3cret")
	if _, err := c.Mint(Claims{ID: "1", Type: "admin"}); !errors.Is(err, ErrBadType) {
		t.Errorf("bad type: err = %v, want ErrBadType", err)
	}
	if _, err := c.Mint(Claims{ID: "1", Type: TypeKefu, Nickname: strings.Repeat("x", MaxTokenLen)}); err == nil {
		t.Error("oversized claims: no error")
	}
}

func TestNoncesDiffer(t *testing.T) {
	c := newTestCodec("s3cret")
	cl := Claims{ID: "1", Type: TypeKefu}
	a, _ := c.Mint(cl)
	b, _ := c.Mint(cl)
	if a == b {
		t.Fatal("two mints of the same claims gave the same token")
	}
}

func TestParseTime(t *testing.T) {
	c := newTestCodec("s3cret")
	now := testNow.Unix()
	ttl := int64(testTTL / time.Second)
	tests := []struct {
		ctime int64
		want  error
	}{
		{now, nil},
		{now - ttl, nil},
		{now - ttl - 1, ErrExpired},
		{now + 60, nil},
		{now + 61, ErrFuture},
		{-1 << 63, ErrExpired}, // must not overflow into "valid"
		{1<<63 - 1, ErrFuture},
	}
	for _, tt := range tests {
		tok, err := c.Mint(Claims{ID: "1", Type: TypeWall, Ctime: tt.ctime})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Parse([]byte(tok)); !errors.Is(err, tt.want) {
			t.Errorf("ctime now%+d: err = %v, want %v", tt.ctime-now, err, tt.want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	c := newTestCodec("s3cret")
	good, err := c.Mint(Claims{ID: "42", Type: TypeKefu, Nickname: "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) string {
		raw, _ := base64.RawURLEncoding.DecodeString(good)
		raw[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(raw)
	}
	other, _ := newTestCodec("other").Mint(Claims{ID: "42", Type: TypeKefu})
	std := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\xfb\xff", 40)))

	tests := []struct {
		name, token string
		want        error
	}{
		{"empty", "", ErrMalformed},
		{"short", good[:30], ErrMalformed},
		{"too long", good + strings.Repeat("A", MaxTokenLen), ErrMalformed},
		{"padded", base64.URLEncoding.EncodeToString([]byte(good[:32])), ErrMalformed},
		{"padding appended", good + "==", ErrMalformed},
		{"standard alphabet", std, ErrMalformed},
		{"line break", good[:20] + "\n" + good[20:], ErrMalformed},
		{"trailing space", good + " ", ErrMalformed},
		{"tampered nonce", flip(0), ErrDecrypt},
		{"tampered ciphertext", flip(20), ErrDecrypt},
		{"tampered tag", flip(len(good)*6/8 - 1), ErrDecrypt},
		{"truncated", good[:len(good)-4], ErrDecrypt},
		{"wrong secret", other, ErrDecrypt},
		{"not JSON", seal(c, `id=1`), ErrMalformed},
		{"JSON array", seal(c, `[1,2]`), ErrMalformed},
		{"float id", seal(c, `{"id":1.5,"type":"kefu","ctime":1700000000}`), ErrMalformed},
		{"bool id", seal(c, `{"id":true,"type":"kefu","ctime":1700000000}`), ErrMalformed},
		{"string ctime", seal(c, `{"id":"1","type":"kefu","ctime":"1700000000"}`), ErrMalformed},
		{"float ctime", seal(c, `{"id":"1","type":"kefu","ctime":1.7e9}`), ErrMalformed},
		{"numeric type", seal(c, `{"id":"1","type":1,"ctime":1700000000}`), ErrMalformed},
		{"bad type", seal(c, `{"id":"1","type":"admin","ctime":1700000000}`), ErrBadType},
		{"type case", seal(c, `{"id":"1","type":"Wall","ctime":1700000000}`), ErrBadType},
		{"no type", seal(c, `{"id":"1","ctime":1700000000}`), ErrBadType},
		{"no ctime", seal(c, `{"id":"1","type":"wall"}`), ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl, err := c.Parse([]byte(tt.token))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if cl != (Claims{}) {
				t.Errorf("claims = %+v on error, want zero", cl)
			}
			if len(tt.token) >= 8 && strings.Contains(err.Error(), tt.token[:8]) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
}

func TestParseIntegerID(t *testing.T) {
	c := newTestCodec("s3cret")
	for _, id := range []string{"0", "10086", "-7", "123456789012345678901234567890"} {
		cl, err := c.Parse([]byte(seal(c, `{"id":`+id+`,"type":"wall","ctime":1700000000}`)))
		if err != nil {
			t.Fatalf("id %s: %v", id, err)
		}
		if cl.ID != id {
			t.Errorf("ID = %q, want %q", cl.ID, id)
		}
	}
}

type fixture struct {
	Secret string `json:"secret"`
	Now    int64  `json:"now"`
	Cases  []struct {
		Token  string `json:"token"`
		Claims Claims `json:"claims"`
	} `json:"cases"`
}

// TestFixture parses tokens minted by testdata/mint_fixture.py (Python's
// cryptography package), so Parse is checked against another implementation
// of the protocol and not only against Mint.
func TestFixture(t *testing.T) {
	data, err := os.ReadFile("testdata/fixture.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx fixture
	if err := json.Unmarshal(data, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Cases) == 0 {
		t.Fatal("fixture has no cases")
	}
	c := New(fx.Secret, testTTL)
	c.Now = func() time.Time { return time.Unix(fx.Now, 0) }
	for i, tc := range fx.Cases {
		got, err := c.Parse([]byte(tc.Token))
		if err != nil {
			t.Errorf("case %d: %v", i, err)
			continue
		}
		if got != tc.Claims {
			t.Errorf("case %d: Parse = %+v, want %+v", i, got, tc.Claims)
		}
	}
}

// TestMintOpensElsewhere opens Mint's output with Node's crypto module
// (testdata/open.js). Without node the test is skipped, except in CI.
func TestMintOpensElsewhere(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node not found; CI must check tokens against an independent implementation")
		}
		t.Skip("node not found")
	}
	const secret = "mint secret ü"
	want := Claims{ID: "o6_x", Type: TypeWechatUser, Code: "r1", Nickname: "Zoë <b>", Ctime: testNow.Unix()}
	tok, err := newTestCodec(secret).Mint(want)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, "testdata/open.js", secret, tok).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	// Decode with encoding/json's own rules, not Claims.UnmarshalJSON.
	type plain Claims
	var got plain
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node printed %q: %v", out, err)
	}
	if Claims(got) != want {
		t.Fatalf("node read %+v, want %+v", got, want)
	}
}

func TestParseConcurrent(t *testing.T) {
	c := newTestCodec("s3cret")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			want := Claims{ID: strings.Repeat("x", g*50), Type: TypeWall, Ctime: testNow.Unix()}
			tok, _ := c.Mint(want)
			for range 200 {
				if got, err := c.Parse([]byte(tok)); err != nil || got != want {
					t.Errorf("Parse = %+v, %v", got, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkParse(b *testing.B) {
	c := newTestCodec("s3cret")
	tok, err := c.Mint(Claims{ID: "o6_bmjrPTlm6_2sgVt7hMZOPfL2M", Type: TypeWechatUser, Code: "room-42", Nickname: "Alice"})
	if err != nil {
		b.Fatal(err)
	}
	token := []byte(tok)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Parse(token); err != nil {
			b.Fatal(err)
		}
	}
}
