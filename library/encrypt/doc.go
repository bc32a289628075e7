// Package encrypt mints and parses the auth token clients present when they
// connect (docs/protocol.md, "Tokens").
//
// A token is base64url without padding of nonce || ciphertext || tag, where
// the ciphertext is the JSON claims sealed with AES-256-GCM under the key
// SHA-256(secret), with a 12-byte random nonce and no additional data. A PHP
// backend mints the same token with openssl_encrypt(..., 'aes-256-gcm', ...).
//
// Parse accepts exactly the unpadded base64url alphabet: a padded token, one in
// the standard alphabet ('+', '/') or one containing line breaks is
// ErrMalformed. Being strict keeps one spelling per token and catches the
// common backend mistake (plain base64_encode) at once, instead of letting '+'
// turn into a space somewhere in a query string.
//
// Example:
//
//	codec := encrypt.New(cfg.Auth.Secret, cfg.TokenTTL())
//	token, err := codec.Mint(encrypt.Claims{ID: "o6_bmjrPTlm6", Type: encrypt.TypeWechatUser, Code: "room1"})
//	...
//	claims, err := codec.Parse([]byte(token))
//	if errors.Is(err, encrypt.ErrExpired) { ... } // answer 403 either way
//
// Concurrency: a Codec is safe for concurrent use by any number of goroutines.
// Its Now field is the exception: set it, if at all, before sharing the Codec.
package encrypt
