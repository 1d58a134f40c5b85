// Package codec encrypts every payload this product sends to Temporal
// (workflow and activity inputs and results, signals, query answers, failure
// messages) with AES-256-GCM, so bank credentials and financial data never
// sit in Temporal's history in the clear. Keys live in a key ring: new
// payloads use the current key, old payloads decode with any key still in
// the ring, so keys rotate without breaking running executions.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Key is one named 256-bit key.
type Key struct {
	ID     string
	Secret []byte
}

// KeyRing holds the keys; the first given is the current one.
type KeyRing struct {
	current string
	aeads   map[string]cipher.AEAD
}

// NewKeyRing builds a ring; keys[0] encrypts, all decrypt.
func NewKeyRing(keys ...Key) (*KeyRing, error) {
	if len(keys) == 0 {
		return nil, errors.New("codec: a key ring needs at least one key")
	}
	r := &KeyRing{current: keys[0].ID, aeads: map[string]cipher.AEAD{}}
	for _, k := range keys {
		if k.ID == "" || strings.ContainsAny(k.ID, ":, \n") {
			return nil, fmt.Errorf("codec: key id %q must be non-empty, without ':', ',' or spaces", k.ID)
		}
		if len(k.Secret) != 32 {
			return nil, fmt.Errorf("codec: key %q is %d bytes; AES-256 needs 32", k.ID, len(k.Secret))
		}
		if _, dup := r.aeads[k.ID]; dup {
			return nil, fmt.Errorf("codec: key id %q appears twice", k.ID)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("codec: key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("codec: key %q: %w", k.ID, err)
		}
		r.aeads[k.ID] = aead
	}
	return r, nil
}

// CurrentID is the id of the key new payloads are encrypted with.
func (r *KeyRing) CurrentID() string { return r.current }

// ParseKeys reads "id:base64key,id2:base64key" (the first is current); the
// format of PAYLOAD_ENCRYPTION_KEYS and of the key file.
func ParseKeys(s string) ([]Key, error) {
	var parts []string
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			parts = append(parts, strings.Split(line, ",")...)
		}
	}
	var keys []Key
	for _, part := range parts {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		id, b64, ok := strings.Cut(part, ":")
		if !ok {
			return nil, errors.New("codec: each key must be written id:base64 (the value itself is not shown)")
		}
		secret, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
		if err != nil {
			return nil, fmt.Errorf("codec: key %q is not valid base64", id)
		}
		keys = append(keys, Key{ID: strings.TrimSpace(id), Secret: secret})
	}
	if len(keys) == 0 {
		return nil, errors.New("codec: no key found")
	}
	return keys, nil
}

// Load builds the ring from keys given inline (PAYLOAD_ENCRYPTION_KEYS) or,
// when those are empty, from a file (PAYLOAD_ENCRYPTION_KEYS_FILE).
func Load(inline, file string) (*KeyRing, error) {
	src := inline
	if src == "" {
		if file == "" {
			return nil, errors.New("codec: no payload encryption key: set PAYLOAD_ENCRYPTION_KEYS or PAYLOAD_ENCRYPTION_KEYS_FILE")
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("codec: read key file (PAYLOAD_ENCRYPTION_KEYS_FILE): %w; the local stack creates one, or run `go run ./cmd/codec-server -generate-key FILE`", err)
		}
		src = string(b)
	}
	keys, err := ParseKeys(src)
	if err != nil {
		return nil, err
	}
	return NewKeyRing(keys...)
}

// NewKey makes a random key named after the day, for a new ring or a
// rotation.
func NewKey() (Key, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return Key{}, err
	}
	suffix := make([]byte, 3)
	if _, err := rand.Read(suffix); err != nil {
		return Key{}, err
	}
	return Key{ID: fmt.Sprintf("k%s-%x", time.Now().UTC().Format("20060102"), suffix), Secret: secret}, nil
}

// FormatKeys writes keys in the ParseKeys format, current first.
func FormatKeys(keys ...Key) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k.ID + ":" + base64.StdEncoding.EncodeToString(k.Secret)
	}
	return strings.Join(parts, "\n") + "\n"
}

// EnsureKeyFile creates a key file with one new key unless it exists; it
// reports whether it created one. The file is readable by its owner only,
// and created exclusively: two processes starting at once cannot each write
// a different key.
func EnsureKeyFile(path string) (bool, error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil
	}
	k, err := NewKey()
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return false, nil // another process made it first: use theirs
	}
	if err != nil {
		return false, fmt.Errorf("codec: create key file: %w", err)
	}
	if _, err := f.WriteString(FormatKeys(k)); err != nil {
		f.Close()
		os.Remove(path)
		return false, fmt.Errorf("codec: write key file: %w", err)
	}
	return true, f.Close()
}
