package manager

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"

	"msgo/framework"
)

// form is a call's input, JSON values by name, read from a POST body or a GET
// query. Its readers keep the first problem in err and remember the names
// they read, so an endpoint reads every field and then checks done once;
// each message names its field.
type form struct {
	f    map[string]json.RawMessage
	read map[string]bool // the names the call asked for
	err  error
}

// done returns the first problem, or else a 400 naming a key the call does
// not know (a misspelt key would otherwise be ignored silently: a
// /api/online/users?room=x answering every user, not the room's).
func (in *form) done() error {
	if in.err != nil {
		return in.err
	}
	var unknown []string
	for k := range in.f {
		if !in.read[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		in.fail(unknown[0], "unknown key")
	}
	return in.err
}

// mark records that the call knows name.
func (in *form) mark(name string) {
	if in.read == nil {
		in.read = map[string]bool{}
	}
	in.read[name] = true
}

func (in *form) fail(field, format string, args ...any) {
	if in.err == nil {
		in.err = errorf(http.StatusBadRequest, field+": "+format, args...)
	}
}

// readBody reads a JSON object body. The body was already bounded by
// ServeHTTP; reading past the bound answers 413.
func readBody(r *http.Request) *form {
	in := &form{}
	b, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		in.err = errTooLarge
	case err != nil:
		in.fail("body", "read: %v", err)
	case len(bytes.TrimSpace(b)) == 0:
		in.fail("body", "empty, want a JSON object")
	default:
		var se *json.SyntaxError
		err = json.Unmarshal(b, &in.f)
		switch {
		case errors.As(err, &se):
			in.fail("body", "malformed JSON at byte %d: %v", se.Offset, err)
		case err != nil || in.f == nil:
			in.fail("body", "must be a JSON object")
		}
	}
	return in
}

// readQuery reads a GET call's query parameters as JSON strings, so that the
// same readers check them.
func readQuery(r *http.Request) *form {
	in := &form{f: map[string]json.RawMessage{}}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		in.fail("query", "%v", err)
		return in
	}
	for k, vs := range q {
		if len(vs) > 1 {
			in.fail(k, "given %d times", len(vs))
		}
		b, _ := json.Marshal(vs[0])
		in.f[k] = b
	}
	return in
}

// raw returns a field's JSON, nil when absent or null.
func (in *form) raw(name string) json.RawMessage {
	in.mark(name)
	v := in.f[name]
	if string(v) == "null" {
		return nil
	}
	return v
}

func (in *form) has(name string) bool { return in.raw(name) != nil }

// need returns a field's JSON like raw, failing when a required one is absent.
func (in *form) need(name string, required bool) json.RawMessage {
	v := in.raw(name)
	if v == nil && required {
		in.fail(name, "required")
	}
	return v
}

// str reads a string field; a required one must be present and not empty.
func (in *form) str(name string, required bool) string {
	v := in.need(name, required)
	if v == nil {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		in.fail(name, "must be a string")
		return ""
	}
	if required && s == "" {
		in.fail(name, "must not be empty")
	}
	return s
}

// id reads a user id or room name: a string, or a JSON integer taken as its
// decimal text (PHP backends send numeric ids as numbers), as tokens do.
func (in *form) id(name string, required bool) string {
	v := in.need(name, required)
	if v == nil {
		return ""
	}
	s, ok := idText(v)
	switch {
	case !ok:
		in.fail(name, "must be a string or an integer")
	case required && s == "":
		in.fail(name, "must not be empty")
	}
	return s
}

func idText(v json.RawMessage) (string, bool) {
	if v[0] == '"' {
		var s string
		err := json.Unmarshal(v, &s)
		return s, err == nil
	}
	// An integer literal: digits with an optional minus, no fraction or
	// exponent. It is kept as written, so large ids lose no precision.
	digits := bytes.TrimPrefix(v, []byte("-"))
	if len(digits) == 0 {
		return "", false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return string(v), true
}

// ids reads a list of user ids, each at most once, in order.
func (in *form) ids(name string, required bool) []string {
	v := in.need(name, required)
	if v == nil {
		return nil
	}
	var list []json.RawMessage
	if json.Unmarshal(v, &list) != nil {
		in.fail(name, "must be an array of strings or integers")
		return nil
	}
	if required && len(list) == 0 {
		in.fail(name, "must not be empty")
	}
	seen := make(map[string]bool, len(list))
	out := make([]string, 0, len(list))
	for i, e := range list {
		s, ok := idText(e)
		if !ok || s == "" {
			in.fail(name, "item %d must be a non-empty string or integer", i)
			return nil
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// userType reads an optional user type; empty means every type.
func (in *form) userType(name string) string {
	t := in.str(name, false)
	switch t {
	case "", framework.TypeWechatUser, framework.TypeWall, framework.TypeKefu:
		return t
	}
	in.fail(name, "must be %s, %s or %s, got %q", framework.TypeWechatUser, framework.TypeWall, framework.TypeKefu, t)
	return ""
}

// object reads a required JSON object, compacted.
func (in *form) object(name string) json.RawMessage {
	v := in.raw(name)
	if v == nil {
		in.fail(name, "required, a JSON object")
		return nil
	}
	if v[0] != '{' {
		in.fail(name, "must be a JSON object")
		return nil
	}
	return compact(v)
}

// value reads a required JSON value of any kind, null included, compacted.
func (in *form) value(name string) json.RawMessage {
	in.mark(name)
	v, ok := in.f[name]
	if !ok {
		in.fail(name, "required")
		return nil
	}
	return compact(v)
}

func compact(v json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if json.Compact(&b, v) != nil {
		return v
	}
	return b.Bytes()
}
