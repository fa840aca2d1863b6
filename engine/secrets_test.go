package engine

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretBox(t *testing.T) {
	dir := t.TempDir()
	box, err := loadSecretBox(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, keyFileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("node key: %v, mode %v, want 0600", err, fi.Mode().Perm())
	}
	secret := []byte("connection key material")
	sealed := box.seal(secret)
	if bytes.Contains(sealed, secret) {
		t.Fatal("sealed secret contains the plaintext")
	}
	again, err := loadSecretBox(dir) // a restart reads the same key
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.open(sealed); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("open after restart: %q, %v", got, err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := again.open(sealed); err == nil {
		t.Error("a damaged sealed secret opened")
	}
	other, err := loadSecretBox(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.open(box.seal(secret)); err == nil {
		t.Error("another node's key opened this node's secret")
	}
	if err := os.WriteFile(filepath.Join(dir, keyFileName), []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadSecretBox(dir); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("a damaged node key: err = %v", err)
	}
}

func TestTokens(t *testing.T) {
	a, b := newToken("tdm_admin_"), newToken("tdm_admin_")
	if a == b || !strings.HasPrefix(a, "tdm_admin_") || len(a) < 40 {
		t.Errorf("tokens %q, %q", a, b)
	}
	if !bytes.Equal(hashToken(a), hashToken(a)) || bytes.Equal(hashToken(a), hashToken(b)) || bytes.Contains(hashToken(a), []byte(a)) {
		t.Error("token hashes are not a stable one-way function of the token")
	}
}
