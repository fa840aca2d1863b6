package engine

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/tandem-sync/tandem/store"
)

// keyFileName is the node's master key inside its data dir, on SQLite.
// Connection keys are stored in the database encrypted with it, so a copy
// of the SQLite file alone reveals no connection's key. On PostgreSQL the
// key is kept in the database instead (loadNodeKey).
const keyFileName = "node.key"

// secretBox encrypts secrets the node must keep usable (connection keys)
// with AES-256-GCM under the node's master key.
type secretBox struct{ aead cipher.AEAD }

// loadNodeKey opens the node's secret box with its master key: on SQLite
// the file node.key in dir, created (mode 0600) on first start; on
// PostgreSQL, where several replicas with data dirs of their own are one
// node, the key kept in the database (store.NodeKey), stored by the first
// replica to start: the others, starting at the same time or later, get
// that one.
func loadNodeKey(ctx context.Context, st *store.Store, dir string, now time.Time) (*secretBox, error) {
	if !st.Shared() {
		return loadSecretBox(dir)
	}
	candidate := make([]byte, 32)
	if _, err := rand.Read(candidate); err != nil {
		return nil, err
	}
	key, _, err := st.NodeKey(ctx, candidate, now)
	if err != nil {
		return nil, err
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("the node key in the database is damaged (%d bytes, want 32)", len(key))
	}
	return newSecretBox(key)
}

// loadSecretBox reads the master key from dir, creating it (mode 0600) on
// first start.
func loadSecretBox(dir string) (*secretBox, error) {
	path := filepath.Join(dir, keyFileName)
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("creating the node key %s: %w", path, err)
		}
		if _, err := f.Write(key); err != nil {
			f.Close()
			return nil, fmt.Errorf("writing the node key %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("writing the node key %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("writing the node key %s: %w", path, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("reading the node key %s: %w", path, err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("the node key %s is damaged (%d bytes, want 32)", path, len(key))
	}
	return newSecretBox(key)
}

// newSecretBox is the box sealing with key (32 bytes).
func newSecretBox(key []byte) (*secretBox, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &secretBox{aead: aead}, nil
}

// seal encrypts plaintext; the random nonce travels in front of it.
func (b *secretBox) seal(plaintext []byte) []byte {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return b.aead.Seal(nonce, nonce, plaintext, nil)
}

// open decrypts what seal produced.
func (b *secretBox) open(sealed []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed secret is too short")
	}
	out, err := b.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return nil, errors.New("sealed secret does not open with this node's key (was the node key replaced?)")
	}
	return out, nil
}

// newToken returns a random token with a readable prefix, so a leaked one
// can be recognised (and found by secret scanners).
func newToken(prefix string) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is what the node stores of its admin token.
func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte("tandem/v1/admin-token\x00" + token))
	return sum[:]
}

// tokensEqual compares two tokens in constant time.
func tokensEqual(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
