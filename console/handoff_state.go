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
const handoffVersion = 1

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
	return b, nil
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
	if fail || len(b) > 0 {
		return errHandoffState
	}
	if len(h.Memory) == 0 {
		h.Memory = nil
	}
	return nil
}

// export fills h with every open connection of srv, which is frozen, and
// returns their sockets in the same order, with the bytes queued for
// clients and read from them but not yet handled.
func (h *handoffState) export(srv *framework.Server) (fds []int, output, input int) {
	moving := srv.Export()
	h.LastID = srv.LastConnID()
	h.Conns = make([]handedConn, len(moving))
	fds = make([]int, len(moving))
	for i, m := range moving {
		h.Conns[i], fds[i] = handedConn{ID: m.ID, State: m.State}, m.FD
		output += len(m.State.Transport.Output)
		input += len(m.State.Transport.Pending) + len(m.State.Transport.Message)
	}
	return fds, output, input
}

// adopt registers h's connections on srv, which is frozen, each on its
// socket in fds. On an error some sockets may be srv's already.
func (h *handoffState) adopt(srv *framework.Server, fds []int) error {
	var errs []error
	for i, c := range h.Conns {
		if err := srv.Adopt(c.ID, fds[i], c.State); err != nil {
			errs = append(errs, err)
		}
	}
	srv.ReserveConnIDs(h.LastID)
	return errors.Join(errs...)
}
