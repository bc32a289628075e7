package framework

import (
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"msgo/library/wire"
)

// A reload carries the detached sessions too (a resumable connection whose
// client dropped, inside its resume window): their state, the frames kept
// for them and when their window ends. Their expiry timers do not run
// while a reload holds them: the old process stops them when it exports
// (Thaw rearms them if the reload failed), the new one arms them at Thaw, so
// a session that expires runs its close hooks once, in one process.

// Detached is a detached session leaving or entering a process: its
// connection's id, its state (no socket; the frames kept for its client
// are in State.Transport.Replay) and when its resume window ends.
type Detached struct {
	ID    ConnID
	State ConnState
	Until time.Time
}

// parkedExpiries are the detached sessions whose expiry waits for Thaw.
type parkedExpiries struct {
	mu    sync.Mutex
	conns []*conn
}

// ExportDetached returns every detached session, for a new process to
// AdoptDetached, and stops their expiry until Thaw. Call it while frozen,
// after Export. A session whose window ended meanwhile is left to expire
// here.
func (s *Server) ExportDetached() []Detached {
	var out []Detached
	s.tr.Each(func(c *conn) {
		var until time.Time
		c.Edit(func(ss *session, _ bool) {
			r := ss.hooks.resumeOf()
			if r == nil || !r.detached || r.expiry == nil || !r.expiry.Stop() {
				return
			}
			until = r.until
		})
		if until.IsZero() {
			return
		}
		s.parked.add(c)
		if st, err := s.ExportConn(c.ID()); err == nil {
			out = append(out, Detached{ID: c.ID(), State: st, Until: until})
		}
	})
	return out
}

// resumeOf returns h's session; nil for none (h may be nil).
func (h *hooks) resumeOf() *resumable {
	if h == nil {
		return nil
	}
	return h.resume
}

// AdoptDetached registers a detached session exported by the process
// before this one, under its old id: in its rooms, with its close keys and
// close controllers, holding the frames kept for its client, resumable
// until d.Until (counted from Thaw on).
func (s *Server) AdoptDetached(d Detached) error {
	st := d.State
	ss, err := s.adoptedSession(st)
	if ss.hooks == nil || ss.hooks.resume == nil {
		return fmt.Errorf("framework: adopt detached session %d: no session id", d.ID)
	}
	ss.hooks.resume.detached, ss.hooks.resume.until = true, d.Until
	c, ierr := s.tr.ImportDetached(d.ID, st.Transport, ss)
	if ierr != nil {
		return fmt.Errorf("framework: adopt detached session %d: %w", d.ID, ierr)
	}
	s.registerAdopted(c, st)
	s.sessions.detached.Add(1)
	s.parked.add(c)
	if err != nil {
		return fmt.Errorf("framework: adopt detached session %d: %w", d.ID, err)
	}
	return nil
}

func (p *parkedExpiries) add(c *conn) {
	p.mu.Lock()
	p.conns = append(p.conns, c)
	p.mu.Unlock()
}

// rearm starts the expiry of every parked session still detached, for what
// is left of its window.
func (p *parkedExpiries) rearm() {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range conns {
		c.Edit(func(ss *session, _ bool) {
			if r := ss.hooks.resumeOf(); r != nil && r.detached {
				r.expiry = time.AfterFunc(time.Until(r.until), c.Expire)
			}
		})
	}
}

// EncodeDetached encodes sessions for DecodeDetached: a count, then each
// session's id, window end (unix nanoseconds) and encoded ConnState.
func EncodeDetached(sessions []Detached) ([]byte, error) {
	b := binary.AppendUvarint(nil, uint64(len(sessions)))
	for _, d := range sessions {
		st, err := d.State.MarshalBinary()
		if err != nil {
			return nil, err
		}
		b = binary.AppendUvarint(b, uint64(d.ID))
		b = binary.AppendVarint(b, d.Until.UnixNano())
		b = wire.AppendBytes(b, st)
	}
	return b, nil
}

// DecodeDetached decodes what EncodeDetached encoded.
func DecodeDetached(b []byte) ([]Detached, error) {
	d := wire.NewReader(b)
	n := d.Uvarint()
	var out []Detached
	for i := uint64(0); i < n && d.Err() == nil; i++ {
		s := Detached{ID: ConnID(d.Uvarint()), Until: time.Unix(0, d.Varint())}
		st := d.Bytes()
		if d.Err() != nil {
			break
		}
		if err := s.State.UnmarshalBinary(st); err != nil {
			return nil, fmt.Errorf("framework: detached session %d: %w", s.ID, err)
		}
		out = append(out, s)
	}
	if d.Err() != nil || d.Len() > 0 {
		return nil, fmt.Errorf("framework: malformed detached sessions: %w", errConnState)
	}
	return out, nil
}
