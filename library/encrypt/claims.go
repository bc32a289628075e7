package encrypt

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// The values Claims.Type may hold.
const (
	TypeWechatUser = "wechatUser" // a WeChat mini-program user; ID is the openid
	TypeWall       = "wall"       // an event wall screen
	TypeKefu       = "kefu"       // a customer-service agent
)

// Types returns the user types a token may carry, in a new slice: what a
// server is configured with (framework.Config.UserTypes).
func Types() []string { return []string{TypeWechatUser, TypeWall, TypeKefu} }

// Claims is what a token says about its holder.
type Claims struct {
	ID       string `json:"id"`       // user identifier; a JSON integer is read as its decimal string
	Type     string `json:"type"`     // TypeWechatUser, TypeWall or TypeKefu
	Code     string `json:"code"`     // room code of a live event; may be empty
	Nickname string `json:"nickname"` // display name
	Ctime    int64  `json:"ctime"`    // issue time, unix seconds
}

// knownType returns the constant equal to t, or "" when t is none of them.
// Returning the constant rather than a copy saves an allocation per handshake.
func knownType(t []byte) string {
	switch string(t) {
	case TypeWechatUser:
		return TypeWechatUser
	case TypeWall:
		return TypeWall
	case TypeKefu:
		return TypeKefu
	}
	return ""
}

var errNotObject = errors.New("claims: not a JSON object")

// UnmarshalJSON reads the claims object. Keys match exactly (encoding/json
// would also accept "ID"); unknown keys are ignored; a null value leaves the
// field as it was; "id" may be a JSON string or a JSON integer.
//
// It walks the object by hand instead of using reflection because Codec.Parse
// runs it on every handshake: the only allocations are the strings it keeps.
func (cl *Claims) UnmarshalJSON(data []byte) error {
	// Validating first lets the walk below skip all bounds and syntax checks.
	if !json.Valid(data) {
		return errors.New("claims: invalid JSON")
	}
	i := skipSpace(data, 0)
	if data[i] != '{' {
		return errNotObject
	}
	i++
	for {
		i = skipSpace(data, i)
		switch data[i] {
		case '}':
			return nil
		case ',':
			i = skipSpace(data, i+1)
		}
		keyEnd := skipString(data, i)
		key := data[i:keyEnd]
		i = skipSpace(data, keyEnd)
		i = skipSpace(data, i+1) // the colon
		valEnd := skipValue(data, i)
		if err := cl.set(key, data[i:valEnd]); err != nil {
			return err
		}
		i = valEnd
	}
}

// set stores the value val (raw JSON) of the quoted key.
func (cl *Claims) set(key, val []byte) error {
	if bytes.IndexByte(key, '\\') >= 0 {
		var k string
		if err := json.Unmarshal(key, &k); err != nil {
			return err
		}
		key = []byte(k)
	} else {
		key = key[1 : len(key)-1]
	}
	if string(val) == "null" {
		return nil
	}
	var err error
	switch string(key) {
	case "id":
		if val[0] == '"' {
			cl.ID, err = jsonString(val)
		} else if isInteger(val) {
			cl.ID = string(val)
		} else {
			err = errors.New("claims: id must be a string or an integer")
		}
	case "type":
		if val[0] == '"' {
			if cl.Type = knownType(val[1 : len(val)-1]); cl.Type == "" {
				cl.Type, err = jsonString(val)
			}
		} else {
			err = errors.New("claims: type must be a string")
		}
	case "code":
		cl.Code, err = jsonString(val)
	case "nickname":
		cl.Nickname, err = jsonString(val)
	case "ctime":
		if !isInteger(val) {
			return errors.New("claims: ctime must be an integer")
		}
		cl.Ctime, err = strconv.ParseInt(string(val), 10, 64)
		if err != nil {
			err = errors.New("claims: ctime out of range")
		}
	}
	return err
}

// jsonString returns the value of the JSON string val.
func jsonString(val []byte) (string, error) {
	if val[0] != '"' {
		return "", errors.New("claims: want a string")
	}
	inner := val[1 : len(val)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), nil
	}
	// Escapes and invalid UTF-8 are rare; encoding/json handles them exactly.
	var s string
	err := json.Unmarshal(val, &s)
	return s, err
}

// isInteger reports whether the valid JSON number val has no fraction or exponent.
func isInteger(val []byte) bool {
	if len(val) > 0 && val[0] == '-' {
		val = val[1:]
	}
	if len(val) == 0 {
		return false
	}
	for _, c := range val {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// The skip functions assume valid JSON (checked by UnmarshalJSON) and return
// the index just past what they skip.

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func skipString(data []byte, i int) int {
	for i++; ; i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
}

func skipValue(data []byte, i int) int {
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for {
			switch data[i] {
			case '"':
				i = skipString(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
	}
	for i < len(data) {
		switch data[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}
