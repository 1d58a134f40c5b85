package measure

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/belvo-temporal/backbone/workflows"
)

// Sample is one webhook-to-data latency, as the worker logged it
// (workflows.WebhookToDataLog): exact, unlike the metric's buckets.
type Sample struct {
	Flow     string  `json:"flow"`
	Resource string  `json:"resource"`
	ID       string  `json:"id"`
	Seconds  float64 `json:"seconds"`
}

// LogTail reads the samples a worker appends to its JSON log (LOG_FORMAT=
// json, LOG_LEVEL=info), from where the previous Read stopped.
type LogTail struct {
	Path string
	off  int64
}

// Skip moves past everything logged so far.
func (t *LogTail) Skip() error {
	st, err := os.Stat(t.Path)
	if err != nil {
		return fmt.Errorf("worker log: %w", err)
	}
	t.off = st.Size()
	return nil
}

// Read returns the samples in the complete lines logged since the last
// Read or Skip; a line still being written is left for the next Read.
func (t *LogTail) Read() ([]Sample, error) {
	f, err := os.Open(t.Path)
	if err != nil {
		return nil, fmt.Errorf("worker log: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(t.off, io.SeekStart); err != nil {
		return nil, fmt.Errorf("worker log: %w", err)
	}
	var out []Sample
	r := bufio.NewReaderSize(f, 1<<16)
	marker := []byte(`"` + workflows.WebhookToDataLog + `"`)
	for {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			return out, nil // a partial line is read again next time
		}
		if err != nil {
			return out, fmt.Errorf("worker log: %w", err)
		}
		t.off += int64(len(line))
		if !bytes.Contains(line, marker) {
			continue
		}
		var s struct {
			Msg string `json:"msg"`
			Sample
		}
		if json.Unmarshal(line, &s) == nil && s.Msg == workflows.WebhookToDataLog {
			out = append(out, s.Sample)
		}
	}
}
