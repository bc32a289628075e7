package main

import (
	"msgo/framework"
	"msgo/library/wire"
)

// handoffMore is what version 2 of the handoff state added, in one blob
// (with the head since version 3): the bus cut-over's nonce, the manager's
// counter totals and the detached sessions.
type handoffMore struct {
	Cut      string // the bus markers' nonce; "" when nothing was cut (memory store)
	Manager  []byte // the manager's counters and histograms
	Detached []framework.Detached
}

// marshal encodes m as three length-prefixed blobs.
func (m *handoffMore) marshal() ([]byte, error) {
	detached, err := framework.EncodeDetached(m.Detached)
	if err != nil {
		return nil, err
	}
	b := wire.AppendString(nil, m.Cut)
	b = wire.AppendBytes(b, m.Manager)
	return wire.AppendBytes(b, detached), nil
}

func (m *handoffMore) unmarshal(b []byte) error {
	r := wire.NewReader(b)
	m.Cut, m.Manager = r.Str(), r.View()
	detached := r.View()
	if !done(r) {
		return errHandoffState
	}
	var err error
	m.Detached, err = framework.DecodeDetached(detached)
	return err
}
