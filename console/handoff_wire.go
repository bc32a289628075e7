package main

import (
	be "encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// The two processes of a reload talk over a unix socket pair in frames: a
// kind byte, a 4-byte big-endian length, the payload. A frame of kind
// frameStage or frameConns carries up to fdBatch sockets as SCM_RIGHTS on
// its header.
const (
	frameReady      = 'R' // new -> old: built, waiting for the connections
	frameStage      = 'A' // old -> new, before the pause: up to fdBatch connections, with their sockets
	frameStageStore = 'N' // old -> new, before the pause: the memory store as it is then
	frameHead       = 'H' // old -> new: the state's version, when the pause began, the last id
	frameConns      = 'C' // old -> new: up to fdBatch connections, with the sockets of those not staged
	frameStore      = 'M' // old -> new: the counters and the memory store's shards written to since staging, between two batches
	frameEnd        = 'S' // old -> new: every connection sent; payload: how many
	frameOK         = 'O' // new -> old: every connection adopted, payload: pid
	frameError      = 'E' // new -> old: adoption failed, payload: the reason
	frameBye        = 'B' // old -> new: the old closed nothing and is leaving; serve
	frameServing    = 'V' // new -> old: serving, systemd told; the old may exit

	fdBatch = 250 // under the kernel's SCM_MAX_FD (253)
)

// pipe is one end of the socket pair.
type pipe struct{ c *net.UnixConn }

// newPipe wraps the socket f (it is duplicated; f may be closed).
func newPipe(f *os.File) (*pipe, error) {
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("handoff socket: %w", err)
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, errors.New("handoff socket is not a unix socket")
	}
	return &pipe{c: uc}, nil
}

func (w *pipe) Close() error { return w.c.Close() }

func header(kind byte, n int) []byte {
	h := make([]byte, 5)
	h[0] = kind
	be.BigEndian.PutUint32(h[1:], uint32(n))
	return h
}

// send writes one frame.
func (w *pipe) send(kind byte, payload []byte) error {
	if _, err := w.c.Write(append(header(kind, len(payload)), payload...)); err != nil {
		return fmt.Errorf("handoff send: %w", err)
	}
	return nil
}

// sendConns writes one frame of kind (frameStage or frameConns): payload,
// with fds passed on its header.
func (w *pipe) sendConns(kind byte, payload []byte, fds []int) error {
	b := append(header(kind, len(payload)), payload...)
	n, _, err := w.c.WriteMsgUnix(b, unix.UnixRights(fds...), nil)
	if err == nil && n < len(b) {
		// A stream socket may take part of it; the sockets went with the
		// first byte.
		_, err = w.c.Write(b[n:])
	}
	if err != nil {
		return fmt.Errorf("handoff send connections: %w", err)
	}
	return nil
}

// recv reads one frame; fds are the sockets it carried (already close-on-exec).
func (w *pipe) recv() (kind byte, payload []byte, fds []int, err error) {
	h := make([]byte, 5)
	oob := make([]byte, unix.CmsgSpace(4*fdBatch))
	n, oobn, _, _, err := w.c.ReadMsgUnix(h, oob)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("handoff receive: %w", err)
	}
	if oobn > 0 {
		if fds, err = parseRights(oob[:oobn]); err != nil {
			return 0, nil, nil, err
		}
	}
	if n < len(h) {
		if _, err := io.ReadFull(w.c, h[n:]); err != nil {
			return 0, nil, fds, fmt.Errorf("handoff receive: %w", err)
		}
	}
	payload = make([]byte, be.BigEndian.Uint32(h[1:]))
	if _, err := io.ReadFull(w.c, payload); err != nil {
		return 0, nil, fds, fmt.Errorf("handoff receive: %w", err)
	}
	return h[0], payload, fds, nil
}

func parseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("handoff receive sockets: %w", err)
	}
	var fds []int
	for _, m := range msgs {
		got, err := unix.ParseUnixRights(&m)
		if err != nil {
			return nil, fmt.Errorf("handoff receive sockets: %w", err)
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

// socketPair returns two connected unix stream sockets, close-on-exec.
func socketPair() (a, b *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "handoff"), os.NewFile(uintptr(fds[1]), "handoff"), nil
}
