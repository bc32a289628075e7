package main

import (
	be "encoding/binary"

	"msgo/framework"
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
	b := appendBlob(nil, []byte(m.Cut))
	b = appendBlob(b, m.Manager)
	return appendBlob(b, detached), nil
}

func (m *handoffMore) unmarshal(b []byte) error {
	var parts [3][]byte
	for i := range parts {
		n, k := be.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return errHandoffState
		}
		parts[i], b = b[k:k+int(n)], b[k+int(n):]
	}
	if len(b) > 0 {
		return errHandoffState
	}
	m.Cut, m.Manager = string(parts[0]), parts[1]
	var err error
	m.Detached, err = framework.DecodeDetached(parts[2])
	return err
}
