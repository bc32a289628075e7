package main

import (
	"bytes"
	be "encoding/binary"
	"errors"
	"fmt"
	"time"

	"msgo/framework"
)

// handoffVersion is the version of the state a reload passes; a binary
// refuses a version it does not know, and the old process keeps serving.
const handoffVersion = 2

var handoffMagic = []byte("msgo-handoff")

// handoffState is everything besides the sockets that the new process
// needs: when the pause began (for the pause it reports), the last
// connection id, the metrics' totals, the memory store's contents and each
// connection's state, in the order of the sockets.
type handoffState struct {
	Paused  time.Time
	LastID  framework.ConnID
	Metrics []byte
	Memory  []byte // nil unless cache.driver is memory
	Conns   []handedConn
	More    handoffMore // since version 2
}

type handedConn struct {
	ID    framework.ConnID
	State framework.ConnState
}

func (h *handoffState) marshal(version byte) ([]byte, error) {
	b := append(bytes.Clone(handoffMagic), version)
	b = be.AppendVarint(b, h.Paused.UnixNano())
	b = be.AppendUvarint(b, uint64(h.LastID))
	b = appendBlob(b, h.Metrics)
	b = appendBlob(b, h.Memory)
	b = be.AppendUvarint(b, uint64(len(h.Conns)))
	for _, c := range h.Conns {
		st, err := c.State.MarshalBinary()
		if err != nil {
			return nil, err
		}
		b = be.AppendUvarint(b, uint64(c.ID))
		b = appendBlob(b, st)
	}
	more, err := h.More.marshal()
	if err != nil {
		return nil, err
	}
	return appendBlob(b, more), nil
}

func appendBlob(b, p []byte) []byte {
	b = be.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

var errHandoffState = errors.New("malformed handoff state")

func (h *handoffState) unmarshal(b []byte) error {
	rest, ok := bytes.CutPrefix(b, handoffMagic)
	if !ok || len(rest) == 0 {
		return errHandoffState
	}
	if v := rest[0]; v != handoffVersion {
		return fmt.Errorf("handoff state version %d, this binary reads %d", v, handoffVersion)
	}
	b = rest[1:]
	fail := false
	num := func() uint64 {
		v, k := be.Uvarint(b)
		if k <= 0 {
			fail = true
			return 0
		}
		b = b[k:]
		return v
	}
	blob := func() []byte {
		n := num()
		if fail || n > uint64(len(b)) {
			fail = true
			return nil
		}
		p := b[:n:n]
		b = b[n:]
		return p
	}
	ns, k := be.Varint(b)
	if k <= 0 {
		return errHandoffState
	}
	b = b[k:]
	h.Paused = time.Unix(0, ns)
	h.LastID = framework.ConnID(num())
	h.Metrics = blob()
	h.Memory = blob()
	n := num()
	for i := uint64(0); i < n && !fail; i++ {
		c := handedConn{ID: framework.ConnID(num())}
		st := blob()
		if fail {
			break
		}
		if err := c.State.UnmarshalBinary(st); err != nil {
			return fmt.Errorf("connection %d: %w", c.ID, err)
		}
		h.Conns = append(h.Conns, c)
	}
	more := blob()
	if fail || len(b) > 0 {
		return errHandoffState
	}
	if err := h.More.unmarshal(more); err != nil {
		return err
	}
	if len(h.Memory) == 0 {
		h.Memory = nil
	}
	return nil
}
