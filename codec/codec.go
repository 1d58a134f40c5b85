package codec

import (
	"crypto/rand"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// Metadata of an encrypted payload: its encoding and the id of its key.
const (
	EncodingEncrypted = "binary/encrypted"
	MetadataKeyID     = "encryption-key-id"
)

// Codec is the AES-256-GCM PayloadCodec.
type Codec struct {
	ring *KeyRing
}

// New builds the codec of a ring.
func New(ring *KeyRing) *Codec { return &Codec{ring: ring} }

var _ converter.PayloadCodec = (*Codec)(nil)

// Encode encrypts each whole payload (metadata included, so even the
// encoding of the clear value is hidden) with the current key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.ring.aeads[c.ring.current]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		clear, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("codec: marshal payload: %w", err)
		}
		nonce := make([]byte, aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("codec: nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:              []byte(c.ring.current),
			},
			// The key id is authenticated data: a payload cannot be passed
			// off as encrypted under another key.
			Data: aead.Seal(nonce, nonce, clear, []byte(c.ring.current)),
		}
	}
	return out, nil
}

// Decode decrypts encrypted payloads with the key they name and leaves
// others as they are (payloads written before encryption was turned on).
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != EncodingEncrypted {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		aead, ok := c.ring.aeads[id]
		if !ok {
			return nil, fmt.Errorf("codec: payload encrypted with key %q, which is not in the key ring", id)
		}
		n := aead.NonceSize()
		if len(p.GetData()) < n {
			return nil, fmt.Errorf("codec: encrypted payload too short")
		}
		clear, err := aead.Open(nil, p.GetData()[:n], p.GetData()[n:], []byte(id))
		if err != nil {
			return nil, fmt.Errorf("codec: decrypt payload with key %q: %w", id, err)
		}
		var decoded commonpb.Payload
		if err := proto.Unmarshal(clear, &decoded); err != nil {
			return nil, fmt.Errorf("codec: unmarshal decrypted payload: %w", err)
		}
		out[i] = &decoded
	}
	return out, nil
}

// DataConverter encrypts every payload the default converter produces.
func DataConverter(ring *KeyRing) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), New(ring))
}

// FailureConverter moves failure messages and stack traces into an encoded
// payload, so error texts (which may quote Belvo's answers) are encrypted
// too; the web UI shows them through the codec server.
func FailureConverter(ring *KeyRing) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          DataConverter(ring),
		EncodeCommonAttributes: true,
	})
}
