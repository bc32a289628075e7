package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// managerClient calls a node's manager port (docs/manager-api.md).
type managerClient struct {
	base  string // http://127.0.0.1:9502, no trailing slash
	token string
	hc    *http.Client
}

func newManagerClient(base, token string, conns int) *managerClient {
	tr := &http.Transport{
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	return &managerClient{base: strings.TrimRight(base, "/"), token: token, hc: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

// answer is the manager's envelope.
type answer struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// send POSTs body to path and returns data.delivered.
func (m *managerClient) send(ctx context.Context, path string, body []byte) (int, error) {
	var d struct {
		Delivered int `json:"delivered"`
	}
	err := m.call(ctx, http.MethodPost, path, body, &d)
	return d.Delivered, err
}

// call makes one call and decodes the answer's data into data.
func (m *managerClient) call(ctx context.Context, method, path string, body []byte, data any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, m.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if m.token != "" {
		req.Header.Set("Authorization", "Bearer "+m.token)
	}
	resp, err := m.hc.Do(req)
	if err != nil {
		return fmt.Errorf("manager %s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("manager %s: %w", path, err)
	}
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil || resp.StatusCode != http.StatusOK || a.Code != http.StatusOK {
		msg := a.Message
		if msg == "" {
			msg = strings.TrimSpace(string(raw))
		}
		return fmt.Errorf("manager %s: HTTP %d: %s", path, resp.StatusCode, msg)
	}
	if data != nil && len(a.Data) > 0 {
		if err := json.Unmarshal(a.Data, data); err != nil {
			return fmt.Errorf("manager %s: data: %w", path, err)
		}
	}
	return nil
}

func (m *managerClient) close() { m.hc.CloseIdleConnections() }

// stampedBody builds a send body {prefix "param":{"seq":n,"ts":unix_nanos}}:
// prefix is the call's fixed fields, pre-encoded, ending with a comma.
func stampedBody(dst []byte, prefix []byte, seq int64, ts time.Time) []byte {
	dst = append(dst[:0], prefix...)
	dst = append(dst, `"param":{"seq":`...)
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, ts.UnixNano(), 10)
	return append(dst, "}}"...)
}

// bodyPrefix encodes fields as the start of a JSON object, ready for
// stampedBody: `{"k":v,...,`.
func bodyPrefix(fields ...any) []byte {
	b := []byte{'{'}
	for i := 0; i+1 < len(fields); i += 2 {
		k, _ := json.Marshal(fields[i])
		v, _ := json.Marshal(fields[i+1])
		b = append(b, k...)
		b = append(b, ':')
		b = append(b, v...)
		b = append(b, ',')
	}
	return b
}
