package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// answer is what every call's 200 body holds: status decides.
type answer struct {
	Status *int            `json:"status"`
	Info   string          `json:"info"`
	Param  json.RawMessage `json:"param"`
}

// errTimeout is a call that ran past Config.Timeout.
var errTimeout = errors.New("proxy: backend timed out")

// statusOf is implemented by every answer shape.
type statusOf interface {
	status() (*int, json.RawMessage)
}

func (a *answer) status() (*int, json.RawMessage) { return a.Status, a.Param }

// call POSTs body to {endpoint}/{name}, to be answered by deadline (the
// timeout counts from when the call was queued), and decodes the answer into out. It
// returns the answer's status, which is 200 or a 4xx; anything else the
// backend does (a refused connection, the timeout, an HTTP status other than
// 200, a body that is not such an object, one over MaxAnswerBytes, a status
// outside 200 and 4xx) is an error, logged with the call's name and counted.
func (p *Proxy) call(name string, body any, out statusOf, deadline time.Time) (int, error) {
	start := time.Now()
	status, result, err := p.post(name, body, out, deadline)
	p.metrics.calls.WithLabelValues(name, result).Inc()
	p.metrics.seconds.WithLabelValues(name).Observe(time.Since(start).Seconds())
	if err != nil {
		p.log.Warn("proxy: backend call failed", "call", name, "result", result, "err", err)
	}
	return status, err
}

func (p *Proxy) post(name string, body any, out statusOf, deadline time.Time) (status int, result string, err error) {
	timeout := p.cfg.Timeout
	b, err := json.Marshal(body)
	if err != nil {
		return 0, "encode", fmt.Errorf("encode %s body: %w", name, err)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.Endpoint+"/"+name, bytes.NewReader(b))
	if err != nil {
		return 0, "request", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if p.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+p.cfg.Token)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, "timeout", fmt.Errorf("%w after %s", errTimeout, timeout)
		}
		return 0, "down", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswerBytes+1))
	switch {
	case err != nil && ctx.Err() != nil:
		return 0, "timeout", fmt.Errorf("%w after %s, reading the answer", errTimeout, timeout)
	case err != nil:
		return 0, "down", fmt.Errorf("read answer: %w", err)
	case name == "disconnect":
		return taken(resp.StatusCode, raw)
	case resp.StatusCode != http.StatusOK:
		io.Copy(io.Discard, io.LimitReader(resp.Body, MaxAnswerBytes))
		return 0, "http_status", fmt.Errorf("HTTP %d, want 200", resp.StatusCode)
	case len(raw) > MaxAnswerBytes:
		return 0, "too_large", fmt.Errorf("answer over %d bytes", MaxAnswerBytes)
	}
	if err := json.Unmarshal(raw, out); err != nil || bytes.TrimSpace(raw)[0] != '{' {
		return 0, "bad_answer", fmt.Errorf("answer is not a JSON object with an integer status: %.80q", raw)
	}
	st, param := out.status()
	switch {
	case len(param) > 0 && param[0] != '{' && string(param) != "null":
		return 0, "bad_answer", errors.New("answer param is not a JSON object")
	case st == nil:
		return 0, "bad_answer", errors.New("answer has no status")
	case *st == http.StatusOK:
		return *st, "ok", nil
	case *st >= 400 && *st < 500:
		return *st, "refused", nil
	}
	return 0, "bad_status", fmt.Errorf("answer status %d, want 200 or 4xx", *st)
}

// taken judges a /disconnect answer: any 2xx takes the event, whatever the
// body, unless the body is an object whose status says otherwise.
func taken(code int, raw []byte) (int, string, error) {
	if code < 200 || code > 299 {
		return 0, "http_status", fmt.Errorf("HTTP %d, want 2xx", code)
	}
	var a struct {
		Status *int `json:"status"`
	}
	if json.Unmarshal(raw, &a) == nil && a.Status != nil && (*a.Status < 200 || *a.Status > 299) {
		return 0, "bad_status", fmt.Errorf("answer status %d, want 2xx", *a.Status)
	}
	return http.StatusOK, "ok", nil
}
