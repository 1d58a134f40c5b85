package codec_test

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/belvo-temporal/backbone/codec"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

func key(t *testing.T) codec.Key {
	t.Helper()
	k, err := codec.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const secret = `{"username":"bnk100","password":"s3cr3t-PASSWORD"}`

func TestRoundTripHidesTheClearValue(t *testing.T) {
	k := key(t)
	ring, _ := codec.NewKeyRing(k)
	dc := codec.DataConverter(ring)
	p, err := dc.ToPayload(json.RawMessage(secret))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := protojson.Marshal(p)
	if bytes.Contains(p.GetData(), []byte("s3cr3t")) || bytes.Contains(raw, []byte("s3cr3t")) || bytes.Contains(raw, []byte("json/plain")) {
		t.Fatalf("encoded payload shows the clear value: %s", raw)
	}
	if string(p.GetMetadata()[codec.MetadataKeyID]) != k.ID {
		t.Errorf("key id metadata %q, want %q", p.GetMetadata()[codec.MetadataKeyID], k.ID)
	}
	var back json.RawMessage
	if err := dc.FromPayload(p, &back); err != nil || string(back) != secret {
		t.Fatalf("decoded %s, %v", back, err)
	}
}

// Key rotation: payloads written under key 1 still decode after key 2
// becomes current; new payloads use key 2; a ring without key 1 refuses.
func TestKeyRotation(t *testing.T) {
	k1, k2 := key(t), key(t)
	k2.ID = k1.ID + "b"
	old, _ := codec.NewKeyRing(k1)
	p, _ := codec.DataConverter(old).ToPayload(json.RawMessage(secret))

	rotated, _ := codec.NewKeyRing(k2, k1)
	var back json.RawMessage
	if err := codec.DataConverter(rotated).FromPayload(p, &back); err != nil || string(back) != secret {
		t.Fatalf("old payload after rotation: %s, %v", back, err)
	}
	p2, _ := codec.DataConverter(rotated).ToPayload(json.RawMessage(secret))
	if string(p2.GetMetadata()[codec.MetadataKeyID]) != k2.ID {
		t.Errorf("new payload under %q, want %q", p2.GetMetadata()[codec.MetadataKeyID], k2.ID)
	}
	onlyNew, _ := codec.NewKeyRing(k2)
	if err := codec.DataConverter(onlyNew).FromPayload(p, &back); err == nil || !strings.Contains(err.Error(), k1.ID) {
		t.Errorf("retired key: error %v, want one naming %s", err, k1.ID)
	}
}

func TestTamperingAndKeySwapAreDetected(t *testing.T) {
	k1, k2 := key(t), key(t)
	k2.ID = "other"
	ring, _ := codec.NewKeyRing(k1, k2)
	c := codec.New(ring)
	enc, _ := c.Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(secret)}})
	flipped := &commonpb.Payload{Metadata: enc[0].Metadata, Data: append([]byte(nil), enc[0].Data...)}
	flipped.Data[len(flipped.Data)-1] ^= 1
	swapped := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte(codec.EncodingEncrypted), codec.MetadataKeyID: []byte("other")}, Data: enc[0].Data}
	for name, p := range map[string]*commonpb.Payload{"flipped bit": flipped, "key id swapped": swapped} {
		if _, err := c.Decode([]*commonpb.Payload{p}); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	plain := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`1`)}
	if out, err := c.Decode([]*commonpb.Payload{plain}); err != nil || out[0] != plain {
		t.Errorf("unencrypted payload not passed through: %v", err)
	}
}

func TestParseKeys(t *testing.T) {
	k := key(t)
	cases := []struct {
		in      string
		wantErr bool
	}{
		{codec.FormatKeys(k), false},
		{"# a comment, with a comma\n" + codec.FormatKeys(k, codec.Key{ID: "b", Secret: k.Secret}), false},
		{"nocolon", true},
		{"a:not-base64!!", true},
		{"a:c2hvcnQ=", true}, // 5 bytes
		{"", true},
	}
	for _, c := range cases {
		keys, err := codec.ParseKeys(c.in)
		if err == nil {
			_, err = codec.NewKeyRing(keys...)
		}
		if (err != nil) != c.wantErr {
			t.Errorf("%q: error %v", c.in, err)
		}
		if err != nil && strings.Contains(err.Error(), "c2hvcnQ") {
			t.Errorf("error shows the key: %v", err)
		}
	}
}

func TestCodecServerServesLoopbackWithoutToken(t *testing.T) {
	ring, _ := codec.NewKeyRing(key(t))
	encoded, _ := codec.New(ring).Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(secret)}})
	body, _ := protojson.Marshal(&commonpb.Payloads{Payloads: encoded})
	req := httptest.NewRequest("POST", "/decode", bytes.NewReader(body))
	req.RemoteAddr = "127.0.0.1:5555"
	req.Header.Set("Origin", "http://127.0.0.1:8233")
	w := httptest.NewRecorder()
	codec.Handler(ring, codec.ServerOptions{AllowedOrigins: []string{"http://127.0.0.1:8233"}}).ServeHTTP(w, req)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "czNjcjN0") { // base64 of "s3cr3t"
		t.Fatalf("loopback UI request: %d %s", w.Code, w.Body.String())
	}
}

func TestCodecServer(t *testing.T) {
	ring, _ := codec.NewKeyRing(key(t))
	encoded, _ := codec.New(ring).Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(secret)}})
	body, _ := protojson.Marshal(&commonpb.Payloads{Payloads: encoded})
	cases := []struct {
		name, origin, auth, serverAuth, method string
		want                                   int
		wantClear                              bool
	}{
		{"UI origin, off this machine, no token configured", "http://127.0.0.1:8233", "", "", "POST", 401, false},
		{"CORS preflight", "http://127.0.0.1:8233", "", "", "OPTIONS", 204, false},
		{"foreign origin", "http://evil.example", "", "", "POST", 403, false},
		{"token required and given", "http://127.0.0.1:8233", "Bearer t0k", "Bearer t0k", "POST", 200, true},
		{"token required, wrong", "http://127.0.0.1:8233", "Bearer nope", "Bearer t0k", "POST", 401, false},
		{"token required, missing", "", "", "Bearer t0k", "POST", 401, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := codec.Handler(ring, codec.ServerOptions{AllowedOrigins: []string{"http://127.0.0.1:8233"}, Authorization: c.serverAuth})
			req := httptest.NewRequest(c.method, "/decode", bytes.NewReader(body))
			req.RemoteAddr = "10.1.2.3:5555" // not loopback
			req.Header.Set("Content-Type", "application/json")
			if c.origin != "" {
				req.Header.Set("Origin", c.origin)
			}
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != c.want {
				t.Fatalf("status %d, want %d: %s", w.Code, c.want, w.Body.String())
			}
			var out commonpb.Payloads
			_ = protojson.Unmarshal(w.Body.Bytes(), &out)
			clear := len(out.Payloads) == 1 && bytes.Contains(out.Payloads[0].Data, []byte("s3cr3t"))
			if clear != c.wantClear {
				t.Errorf("clear value returned: %v, want %v (%s)", clear, c.wantClear, w.Body.String())
			}
			if c.origin != "" && c.want < 400 && w.Header().Get("Access-Control-Allow-Origin") != c.origin {
				t.Errorf("CORS header %q", w.Header().Get("Access-Control-Allow-Origin"))
			}
		})
	}
}
