package wsframe

import (
	"encoding/binary"
	"slices"
	"unicode/utf8"
)

// ServerHeaderSize returns the length of an unmasked server header for a
// payload of n bytes.
func ServerHeaderSize(n int) int {
	switch {
	case n < 126:
		return 2
	case n <= 0xFFFF:
		return 4
	default:
		return 10
	}
}

// PutServerHeader writes a final, unmasked header for op and a payload of n
// bytes into dst, which must have ServerHeaderSize(n) bytes, and returns them.
func PutServerHeader(dst []byte, op byte, n int) []byte {
	dst[0] = 0x80 | op
	switch {
	case n < 126:
		dst[1] = byte(n)
		return dst[:2]
	case n <= 0xFFFF:
		dst[1] = 126
		binary.BigEndian.PutUint16(dst[2:4], uint16(n))
		return dst[:4]
	default:
		dst[1] = 127
		binary.BigEndian.PutUint64(dst[2:10], uint64(n))
		return dst[:10]
	}
}

// Build returns a whole server frame (final, unmasked) carrying payload.
func Build(op byte, payload []byte) []byte {
	return Append(make([]byte, 0, ServerHeaderSize(len(payload))+len(payload)), op, payload)
}

// Append appends a whole server frame (final, unmasked) carrying payload to
// dst, so a caller can build frames in a buffer it reuses.
func Append(dst []byte, op byte, payload []byte) []byte {
	hs := ServerHeaderSize(len(payload))
	n := len(dst)
	dst = slices.Grow(dst, hs+len(payload))[:n+hs]
	PutServerHeader(dst[n:], op, len(payload))
	return append(dst, payload...)
}

// Close codes msgo sends or accepts (RFC 6455 section 7.4 and the msgo protocol).
const (
	CloseNormal         = 1000
	CloseGoingAway      = 1001
	CloseProtocolError  = 1002
	CloseNoStatus       = 1005 // never on the wire: an empty close payload
	CloseInvalidPayload = 1007
	ClosePolicy         = 1008
	CloseTooBig         = 1009
	CloseInternal       = 1011
	CloseServiceRestart = 1012
	CloseIdle           = 4000
)

// BuildClose returns a close frame with code and reason, the reason cut so
// the payload fits a control frame and stays valid UTF-8.
func BuildClose(code int, reason string) []byte {
	if len(reason) > 123 {
		reason = reason[:123]
		for !utf8.ValidString(reason) {
			reason = reason[:len(reason)-1]
		}
	}
	p := make([]byte, 2+len(reason))
	binary.BigEndian.PutUint16(p, uint16(code))
	copy(p[2:], reason)
	return Build(OpClose, p)
}

// ValidCloseCode reports whether a peer may send code in a close frame
// (RFC 6455 section 7.4: 1004-1006 and 1015 are reserved, 1016-2999 unassigned,
// under 1000 never used).
func ValidCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// ParseClose reads a client close payload. ok is false for a payload a client
// may not send (one byte, a code section 7.4 forbids, or a reason that is not
// UTF-8); code is CloseNoStatus for an empty payload.
func ParseClose(p []byte) (code int, ok bool, badUTF8 bool) {
	switch {
	case len(p) == 0:
		return CloseNoStatus, true, false
	case len(p) == 1:
		return 0, false, false
	}
	code = int(binary.BigEndian.Uint16(p))
	if !ValidCloseCode(code) {
		return code, false, false
	}
	if !utf8.Valid(p[2:]) {
		return code, false, true
	}
	return code, true, false
}
