package encrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Parse errors. Each error Parse returns wraps exactly one of them, so callers
// can count rejections by reason with errors.Is. None of them carries the token.
var (
	ErrMalformed = errors.New("encrypt: malformed token")        // not base64url, wrong length, or claims not JSON
	ErrDecrypt   = errors.New("encrypt: token does not decrypt") // tampered, or sealed with another secret
	ErrBadType   = errors.New("encrypt: unknown claims type")
	ErrExpired   = errors.New("encrypt: token expired")
	ErrFuture    = errors.New("encrypt: token issued in the future")
)

const (
	// MaxTokenLen is the longest token Parse accepts, in bytes. It bounds the
	// work an unauthenticated client can ask for and leaves room for a
	// nickname of several hundred characters.
	MaxTokenLen = 4096

	// FutureSkew is how far ctime may lie ahead of the clock, to absorb clock
	// drift between the minting backend and this node.
	FutureSkew = 60 * time.Second

	nonceSize  = 12
	tagSize    = 16
	maxDecoded = MaxTokenLen * 6 / 8
)

// tokenEncoding is base64url without padding. Strict rejects encodings whose
// unused trailing bits are not zero, so every token has exactly one spelling.
var tokenEncoding = base64.RawURLEncoding.Strict()

// bufPool holds the buffers Parse decodes into and decrypts in place, so a
// handshake allocates nothing for them.
var bufPool = sync.Pool{New: func() any { return new([maxDecoded]byte) }}

// Codec mints and parses tokens sealed with one secret. It is safe for
// concurrent use once built.
type Codec struct {
	// Now, when set, replaces time.Now. Tests set it before sharing the Codec.
	Now func() time.Time

	aead cipher.AEAD
	ttl  int64 // seconds
}

// New returns a Codec whose key is SHA-256(secret) and which accepts tokens up
// to ttl old. The secret must not be empty in production; config.EnsureSecret
// provides one.
func New(secret string, ttl time.Duration) *Codec {
	key := sha256.Sum256([]byte(secret))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // unreachable: a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err) // unreachable: AES has a 16-byte block
	}
	return &Codec{aead: aead, ttl: int64(ttl / time.Second)}
}

func (c *Codec) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Mint seals cl into a token. A zero cl.Ctime is set to the current time.
// It refuses claims that Parse would refuse for their type or size.
func (c *Codec) Mint(cl Claims) (string, error) {
	if knownType([]byte(cl.Type)) == "" {
		return "", fmt.Errorf("%w %q", ErrBadType, cl.Type)
	}
	if cl.Ctime == 0 {
		cl.Ctime = c.now().Unix()
	}
	plain, err := json.Marshal(cl)
	if err != nil {
		return "", fmt.Errorf("encrypt: mint: %w", err)
	}
	sealed := make([]byte, nonceSize, nonceSize+len(plain)+tagSize)
	rand.Read(sealed) // never fails, see crypto/rand.Read
	sealed = c.aead.Seal(sealed, sealed, plain, nil)
	if n := tokenEncoding.EncodedLen(len(sealed)); n > MaxTokenLen {
		return "", fmt.Errorf("encrypt: mint: token would be %d bytes, limit %d", n, MaxTokenLen)
	}
	return tokenEncoding.EncodeToString(sealed), nil
}

// Parse opens token and returns its claims when the token is valid: it is
// unpadded base64url, it decrypts, its claims parse, its type is known, it is
// at most the ttl old and at most FutureSkew ahead of the clock.
//
// token is only read and may be reused by the caller once Parse returns.
func (c *Codec) Parse(token []byte) (Claims, error) {
	if len(token) > MaxTokenLen {
		return Claims{}, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxTokenLen)
	}
	buf := bufPool.Get().(*[maxDecoded]byte)
	defer bufPool.Put(buf)

	n, err := tokenEncoding.Decode(buf[:], token)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	// The decoder silently skips CR and LF; a token containing them is not
	// one this package minted.
	if tokenEncoding.EncodedLen(n) != len(token) {
		return Claims{}, fmt.Errorf("%w: contains line breaks", ErrMalformed)
	}
	if n < nonceSize+tagSize {
		return Claims{}, fmt.Errorf("%w: %d bytes decoded, want at least %d", ErrMalformed, n, nonceSize+tagSize)
	}
	sealed := buf[nonceSize:n]
	plain, err := c.aead.Open(sealed[:0], buf[:nonceSize], sealed, nil)
	if err != nil {
		return Claims{}, ErrDecrypt
	}

	var cl Claims
	if err := cl.UnmarshalJSON(plain); err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if knownType([]byte(cl.Type)) == "" {
		return Claims{}, ErrBadType
	}
	now := c.now().Unix()
	if cl.Ctime > now+int64(FutureSkew/time.Second) {
		return Claims{}, fmt.Errorf("%w: ctime %ds ahead of the clock", ErrFuture, cl.Ctime-now)
	}
	// Compared this way round so that a huge negative ctime cannot overflow.
	if cl.Ctime < now-c.ttl {
		return Claims{}, fmt.Errorf("%w: issued %ds ago, ttl %ds", ErrExpired, now-cl.Ctime, c.ttl)
	}
	return cl, nil
}
