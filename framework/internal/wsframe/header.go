package wsframe

import (
	"encoding/binary"
	"errors"
)

// Opcodes of RFC 6455 section 5.2.
const (
	OpContinuation byte = 0x0
	OpText         byte = 0x1
	OpBinary       byte = 0x2
	OpClose        byte = 0x8
	OpPing         byte = 0x9
	OpPong         byte = 0xA
)

// MaxHeaderSize is the longest header a client frame can have.
const MaxHeaderSize = 14

// ErrShort means buf does not yet hold a whole header; read more and retry.
var ErrShort = errors.New("wsframe: short header")

// ProtocolError is a header that breaks RFC 6455; the connection closes with 1002.
type ProtocolError string

func (e ProtocolError) Error() string { return "wsframe: " + string(e) }

// Header is a parsed frame header.
type Header struct {
	Fin    bool
	Rsv    byte // the three RSV bits, 0 when no extension is negotiated
	Op     byte
	Masked bool
	Mask   [4]byte
	Length int64
}

// IsControl reports whether the opcode is a control opcode.
func (h Header) IsControl() bool { return h.Op&0x8 != 0 }

// ParseHeader parses the frame header at the start of buf and returns it with
// the header's length in bytes. It returns ErrShort when buf holds only part of
// a header, and a ProtocolError for a header no valid client may send: a
// reserved opcode, a 64-bit length with its top bit set, or a control frame
// that is fragmented or longer than 125 bytes. Masking and RSV bits are left
// for the caller to judge, since they depend on the connection's side and
// extensions.
func ParseHeader(buf []byte) (Header, int, error) {
	var h Header
	if len(buf) < 2 {
		return h, 0, ErrShort
	}
	b0, b1 := buf[0], buf[1]
	h.Fin = b0&0x80 != 0
	h.Rsv = (b0 >> 4) & 0x7
	h.Op = b0 & 0x0F
	h.Masked = b1&0x80 != 0
	n := 2
	switch l := b1 & 0x7F; l {
	case 126:
		if len(buf) < 4 {
			return h, 0, ErrShort
		}
		h.Length = int64(binary.BigEndian.Uint16(buf[2:4]))
		n = 4
	case 127:
		if len(buf) < 10 {
			return h, 0, ErrShort
		}
		u := binary.BigEndian.Uint64(buf[2:10])
		if u>>63 != 0 {
			return h, 0, ProtocolError("64-bit length with the most significant bit set")
		}
		h.Length = int64(u)
		n = 10
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		if len(buf) < n+4 {
			return h, 0, ErrShort
		}
		copy(h.Mask[:], buf[n:n+4])
		n += 4
	}
	switch h.Op {
	case OpContinuation, OpText, OpBinary:
	case OpClose, OpPing, OpPong:
		if !h.Fin {
			return h, 0, ProtocolError("fragmented control frame")
		}
		if h.Length > 125 {
			return h, 0, ProtocolError("control frame over 125 bytes")
		}
	default:
		return h, 0, ProtocolError("reserved opcode")
	}
	return h, n, nil
}

// Unmask XORs payload in place with the mask key, as RFC 6455 section 5.3 says.
func Unmask(payload []byte, mask [4]byte) {
	// Eight bytes at a time: client frames are masked, so this runs on every byte in.
	m := binary.LittleEndian.Uint32(mask[:])
	m64 := uint64(m) | uint64(m)<<32
	i := 0
	for ; i+8 <= len(payload); i += 8 {
		v := binary.LittleEndian.Uint64(payload[i:])
		binary.LittleEndian.PutUint64(payload[i:], v^m64)
	}
	for ; i < len(payload); i++ {
		payload[i] ^= mask[i&3]
	}
}
