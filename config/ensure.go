package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SecretFile is the name, inside the runtime directory, of the generated secret.
const SecretFile = "secret"

// EnsureSecret gives c an auth secret when it has none: the one stored in
// <runtime_dir>/secret, or else a new random one written there (mode 0600) so
// that restarts and `msgo token` keep agreeing with it. It reports whether it
// generated the secret. Two processes starting at once end with the same one.
func EnsureSecret(c *Config) (generated bool, err error) {
	if c.Auth.Secret != "" {
		return false, nil
	}
	path := c.RuntimePath(SecretFile)
	secret, err := readSecret(path)
	if !errors.Is(err, fs.ErrNotExist) {
		c.Auth.Secret = secret
		return false, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("config: create runtime dir: %w", err)
	}
	secret = hex.EncodeToString(randomBytes(32))
	// Write the whole file under a temporary name, then link it into place:
	// link fails if the name exists, like O_EXCL, and unlike O_EXCL no other
	// process can ever read a half-written secret.
	tmp, err := os.CreateTemp(dir, ".secret-*") // mode 0600
	if err != nil {
		return false, fmt.Errorf("config: write secret: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(secret + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp.Name(), path)
	}
	if errors.Is(err, fs.ErrExist) {
		// Another process won the race; use its secret.
		secret, err = readSecret(path)
		c.Auth.Secret = secret
		return false, err
	}
	if err != nil {
		return false, fmt.Errorf("config: write secret: %w", err)
	}
	c.Auth.Secret = secret
	return true, nil
}

// readSecret returns the secret stored at path. The error keeps
// fs.ErrNotExist visible and never includes the file's contents.
func readSecret(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("config: read secret: %w", err)
	}
	secret := strings.TrimSpace(string(data))
	if secret == "" {
		return "", fmt.Errorf("config: read secret: %s is empty", path)
	}
	return secret, nil
}

// EnsureNodeID gives c a random 8-hex-digit node id when it has none. A
// generated id changes on every start; set node_id to keep one.
func EnsureNodeID(c *Config) {
	if c.NodeID == "" {
		c.NodeID = hex.EncodeToString(randomBytes(4))
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails, see crypto/rand.Read
	return b
}
