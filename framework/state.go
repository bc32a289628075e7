package framework

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"

	"msgo/framework/transport"
	"msgo/library/wire"
)

// ConnState is a connection's whole state as one value: who it is, the rooms
// it joined, its close keys and close controllers, what is left of its rate
// limit, and the transport's part (idle deadline, partial frame and message,
// queued output). ExportConn takes it from a connection and ImportConn puts
// it on a socket in this or another process, so a connection can be handed
// to a new process on reload or moved between nodes; MarshalBinary and
// UnmarshalBinary carry it between them in a versioned encoding.
type ConnState struct {
	Identity    Identity
	Groups      []Group
	CloseKeys   []string
	Controllers []string
	RateTokens  float32 // messages the connection may still send at once
	Session     string  // the resumable session's id (see docs/sessions.md); "" for none
	Transport   transport.State
}

// ExportConn returns the state of local connection id. Call it while the
// connection's input is not being read (see transport.Conn.Export).
func (s *Server) ExportConn(id ConnID) (ConnState, error) {
	c := s.tr.Conn(id)
	if c == nil {
		return ConnState{}, ErrConnGone
	}
	return s.exportConn(c), nil
}

func (s *Server) exportConn(c *conn) ConnState {
	st := s.exportSession(c)
	st.Transport = c.Export()
	return st
}

// exportSession is exportConn without the transport's part, which only
// c's worker may read: it may run while c is served.
func (s *Server) exportSession(c *conn) ConnState {
	st := ConnState{Identity: Client{c: c}.Identity()}
	c.Edit(func(ss *session, _ bool) {
		st.RateTokens = ss.bucket.tokens
		if ss.bucket.last == 0 {
			st.RateTokens = float32(s.cfg.RateLimit)
		}
		if h := ss.hooks; h != nil {
			for kind, name := range h.list.entries() {
				switch kind {
				case hookGroup:
					st.Groups = append(st.Groups, Group{key: name})
				case hookCloseKey:
					st.CloseKeys = append(st.CloseKeys, name)
				case hookController:
					st.Controllers = append(st.Controllers, name)
				}
			}
			if h.resume != nil {
				st.Session = h.resume.id
			}
		}
	})
	return st
}

func collect(l hookList, kind byte) []string {
	var out []string
	for name := range l.names(kind) {
		out = append(out, name)
	}
	return out
}

// ImportConn registers a connection on fd, a socket whose WebSocket
// handshake is done, with state st: it is online, in its rooms, with its
// close keys and close controllers, as it was where st was exported. Once
// it succeeded, fd is the server's.
func (s *Server) ImportConn(ctx context.Context, fd int, st ConnState) (ConnID, error) {
	c, err := s.tr.Import(fd, st.Transport, s.sessionOf(st))
	if err != nil {
		return 0, fmt.Errorf("framework: import connection: %w", err)
	}
	a, id := s.app, c.ID()
	a.connected(c)
	var errs []error
	for _, g := range st.Groups {
		errs = append(errs, a.JoinGroup(ctx, id, g))
	}
	for _, k := range st.CloseKeys {
		errs = append(errs, a.AddCloseKey(ctx, id, k))
	}
	for _, name := range st.Controllers {
		errs = append(errs, a.AddCloseController(id, name))
	}
	if st.Session != "" && editHooks(c, func(h *hooks) { h.resume = &resumable{id: st.Session} }) {
		s.sessions.put(st.Session, c)
	}
	if err := errors.Join(errs...); err != nil {
		return id, fmt.Errorf("framework: import connection %d: %w", id, err)
	}
	return id, nil
}

// connStateVersion is the first byte of an encoded ConnState; a decoder
// refuses versions it does not know.
const connStateVersion = 2

var errConnState = errors.New("framework: malformed connection state")

// MarshalBinary encodes st: a version byte, then every field in order,
// strings and byte slices with a uvarint length, lists with a uvarint count.
func (st ConnState) MarshalBinary() ([]byte, error) { return st.AppendBinary(nil) }

// AppendBinary appends the encoding of MarshalBinary to b: a reload encodes
// thousands of states into one buffer.
func (st ConnState) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, connStateVersion)
	for _, s := range [...]string{st.Identity.ID, st.Identity.Type, st.Identity.Code, st.Identity.Nickname} {
		b = wire.AppendString(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(st.Groups)))
	for _, g := range st.Groups {
		b = wire.AppendString(b, g.key)
	}
	for _, l := range [...][]string{st.CloseKeys, st.Controllers} {
		b = binary.AppendUvarint(b, uint64(len(l)))
		for _, s := range l {
			b = wire.AppendString(b, s)
		}
	}
	b = binary.BigEndian.AppendUint32(b, math.Float32bits(st.RateTokens))
	t := st.Transport
	b = binary.AppendVarint(b, t.LastSeen)
	b = wire.AppendBytes(b, t.Pending)
	b = append(b, t.MessageOp)
	b = wire.AppendBytes(b, t.Message)
	b = wire.AppendBytes(b, t.Output)
	b = wire.AppendString(b, st.Session)
	if t.Replay == nil {
		return append(b, 0), nil
	}
	r := t.Replay
	b = append(b, 1)
	for _, n := range [...]uint64{r.Next, r.Received, uint64(r.Budget), uint64(len(r.Kept))} {
		b = binary.AppendUvarint(b, n)
	}
	for _, f := range r.Kept {
		b = wire.AppendBytes(b, f)
	}
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary encoded.
func (st *ConnState) UnmarshalBinary(data []byte) error {
	if len(data) == 0 {
		return errConnState
	}
	if data[0] != connStateVersion {
		return fmt.Errorf("framework: connection state version %d, want %d", data[0], connStateVersion)
	}
	d := wire.NewReader(data[1:])
	var out ConnState
	id := &out.Identity
	for _, p := range [...]*string{&id.ID, &id.Type, &id.Code, &id.Nickname} {
		*p = d.Str()
	}
	for i, n := uint64(0), d.Count(); i < n && d.Err() == nil; i++ {
		g := Group{key: d.Str()}
		if _, room := g.RoomName(); !room && !strings.HasPrefix(g.key, internalPrefix) {
			d.Fail() // a key of neither kind names no group
		}
		out.Groups = append(out.Groups, g)
	}
	for _, p := range [...]*[]string{&out.CloseKeys, &out.Controllers} {
		for i, n := uint64(0), d.Count(); i < n && d.Err() == nil; i++ {
			*p = append(*p, d.Str())
		}
	}
	out.RateTokens = math.Float32frombits(binary.BigEndian.Uint32(d.Take(4)))
	t := &out.Transport
	t.LastSeen = d.Varint()
	t.Pending = d.Bytes()
	if op := d.Take(1); len(op) == 1 {
		t.MessageOp = op[0]
	}
	t.Message = d.Bytes()
	t.Output = d.Bytes()
	out.Session = d.Str()
	if has := d.Take(1); len(has) == 1 && has[0] == 1 {
		r := &transport.Replay{Next: d.Uvarint(), Received: d.Uvarint(), Budget: int(d.Uvarint())}
		n := d.Uvarint()
		for i := uint64(0); i < n && d.Err() == nil; i++ {
			r.Kept = append(r.Kept, d.Bytes())
		}
		t.Replay = r
	}
	if d.Err() != nil || d.Len() > 0 {
		return errConnState
	}
	*st = out
	return nil
}
