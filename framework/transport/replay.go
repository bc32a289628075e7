//go:build linux

package transport

import (
	"bytes"
	"errors"
	"time"

	"msgo/framework/internal/wsframe"
)

// A resumable connection survives the loss of its socket. From StartReplay
// on, every data frame written to it is numbered (1, 2, 3, ...) and kept,
// so that a client that lost some can ask for them again; the client's
// messages read from then on are counted. When its socket ends without a
// close frame from the client (EOF, a socket error, an idle timeout) the
// connection is detached instead of closed: the socket is released, Closed
// does not run, and frames written to it are kept, up to the budget. A new
// connection can then take its place (ResumeSession): the socket moves into the
// detached connection, which goes on with the same id and session. Expire
// ends a detached connection as a close would.

// replay is a resumable connection's numbered output and input count,
// under the connection's lock.
type replay[S any] struct {
	next     uint64   // number of the next frame written
	kept     [][]byte // the last frames written, numbered next-len(kept) .. next-1
	bytes    int      // their length
	received uint64   // client messages read since StartReplay
	budget   int
	// adopting is a connection waiting to take this one's place, with the
	// last frame number its client received and the function that answers
	// it; set by park, taken by adopt.
	adopting *Conn[S]
	after    uint64
	answer   func(ok bool, received uint64) []byte
	// withdraw, set by Withdraw, asks c's worker to give c up.
	withdraw chan withdrawn
	// holding: frames are numbered and kept, not written (HoldReplay).
	holding bool
	// raw: frames are held as written, not numbered, in held until Settle
	// (a session moving in whose numbering is not known yet; see Host).
	raw  bool
	held [][]byte
	// keep, with withdraw: only detach c (Hand), do not give it up.
	keep bool
}

// withdrawn is what Withdraw gets back from c's worker.
type withdrawn struct {
	rp Replay
	ok bool
}

// Replay is a resumable connection's state as a plain value, for a
// connection that moves to another process or node.
type Replay struct {
	Next     uint64   // number of the next frame
	Kept     [][]byte // the last frames written, whole WebSocket frames, numbered Next-len(Kept) ..
	Received uint64   // client messages read since the start
	Budget   int      // bytes of frames kept while detached
}

var errNotResumable = errors.New("transport: connection is not resumable")

// StartReplay writes first (a frame, not numbered) and makes c resumable:
// frames written after it are numbered and kept, up to budget bytes while
// c is detached (and half of it while attached, the frames a dropped
// network may have lost). Call it from c's Message.
func (c *Conn[S]) StartReplay(first []byte, budget int) error {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.resumable {
		c.mu.Unlock()
		return c.write(first, true)
	}
	c.mu.Unlock()
	if err := c.write(first, true); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resumable = true
	c.srv.replays.Store(c, &replay[S]{next: 1, budget: budget})
	return nil
}

// replayOf returns c's replay; nil unless c is resumable.
func (c *Conn[S]) replayOf() *replay[S] {
	if !c.resumable {
		return nil
	}
	r, _ := c.srv.replays.Load(c)
	rp, _ := r.(*replay[S])
	return rp
}

// numberLocked numbers the data frames of b (one or more whole server
// frames) and keeps them; it returns the frames as they go on the wire and
// whether the budget still holds them.
func (c *Conn[S]) numberLocked(r *replay[S], b []byte) ([]byte, bool) {
	var out []byte
	for len(b) > 0 {
		h, hn, err := wsframe.ParseHeader(b)
		if err != nil || int64(len(b)-hn) < h.Length {
			return append(out, b...), true // not ours to judge: written as it is
		}
		end := hn + int(h.Length)
		if h.IsControl() {
			out = append(out, b[:end]...)
			b = b[end:]
			continue
		}
		f := wsframe.Build(h.Op, c.srv.stamp(nil, b[hn:end], r.next))
		r.next++
		r.kept = append(r.kept, f)
		r.bytes += len(f)
		out = append(out, f...)
		b = b[end:]
	}
	limit := r.budget
	if c.state != stateDetached && !r.holding {
		limit /= 2
	}
	for r.bytes > limit && len(r.kept) > 0 {
		if c.state == stateDetached || r.holding {
			return out, false
		}
		r.bytes -= len(r.kept[0])
		r.kept[0] = nil
		r.kept = r.kept[1:]
	}
	return out, true
}

// keepLocked handles a write to c when c is not open: kept if c is
// detached, refused otherwise.
func (c *Conn[S]) keepLocked(b []byte) error {
	if r := c.replayOf(); r != nil && c.state == stateDetached {
		return c.keepDetachedLocked(r, b)
	}
	return ErrClosed
}

// keepDetachedLocked numbers and keeps b for a detached c; a frame past the
// budget ends c's session.
func (c *Conn[S]) keepDetachedLocked(r *replay[S], b []byte) error {
	ok := true
	if r.raw {
		r.held = append(r.held, bytes.Clone(b))
		r.bytes += len(b)
		ok = r.bytes <= r.budget
	} else {
		_, ok = c.numberLocked(r, b)
	}
	if !ok {
		c.srv.metrics.overflow()
		c.srv.schedule(c, flagExpire)
		return ErrClosed
	}
	return nil
}

// detachLocked releases c's socket and keeps c, detached; the caller holds
// c.mu and is c's worker.
func (c *Conn[S]) detachLocked() {
	s := c.srv
	s.closeSocket(int(c.fd))
	c.fd = -1
	c.state = stateDetached
	c.releaseQueueLocked()
	s.ips.release(c.ip)
	c.ip = nil
	c.in = nil
}

// detach detaches c (on its worker) when its socket ended without a close
// frame, and reports whether c is detached: only a resumable, open c is
// detached, and a second abort (a failed write and the EOF both report a
// lost socket) leaves a detached c as it is.
func (s *Server[S]) detach(c *Conn[S]) bool {
	c.mu.Lock()
	if c.state == stateDetached {
		c.mu.Unlock()
		return true
	}
	if !c.resumable || c.state != stateOpen || s.draining.Load() {
		c.mu.Unlock()
		return false
	}
	c.detachLocked()
	c.mu.Unlock()
	if s.onDetached != nil {
		s.onDetached(c)
	}
	return true
}

// Expire ends c if it is still detached, as a close without a close frame
// (1006): Closed runs, on c's worker. Safe from any goroutine.
func (c *Conn[S]) Expire() { c.srv.schedule(c, flagExpire) }

func (s *Server[S]) expire(c *Conn[S]) {
	c.mu.Lock()
	detached := c.state == stateDetached
	c.mu.Unlock()
	if detached {
		s.release(c, 1006)
	}
}

// ResumeSession makes c, whose Message (or Resume's function) is running, take the place of old, a
// resumable connection (detached, or open on another socket, which is then
// closed with 1008 and detached). Once c's Message returns, c stops reading;
// on old's worker, answer runs with whether the resume can proceed (old is
// still there and still holds every frame numbered above after) and the
// number of old's client messages read; its result is written first. Then
// c's socket, and the input c had read past this message, move into old,
// followed by old's frames numbered above after; c is forgotten without
// Closed. When the resume cannot proceed, the answer goes to c, which reads
// on as itself, and old, if it was there, ends.
func (s *Server[S]) ResumeSession(c, old *Conn[S], after uint64, answer func(ok bool, received uint64) []byte) {
	c.input().resume = &resumeReq[S]{old: old, after: after, answer: answer}
}

// resumeReq is a ResumeSession waiting for c's Message to return.
type resumeReq[S any] struct {
	old    *Conn[S]
	after  uint64
	answer func(ok bool, received uint64) []byte
}

// park stops c, which asked to resume, and hands it to the connection it
// resumes; rest is the input read past the resume message.
func (s *Server[S]) park(c *Conn[S], rest []byte) {
	req := c.in.resume
	c.in.resume = nil
	c.in.pend = append([]byte(nil), rest...)
	c.mu.Lock()
	c.state = stateParked
	c.mu.Unlock()
	old := req.old
	old.mu.Lock()
	r := old.replayOf()
	queued := r != nil && r.adopting == nil
	if queued {
		r.adopting, r.after, r.answer = c, req.after, req.answer
	}
	old.mu.Unlock()
	if !queued {
		s.unpark(c, req.answer(false, 0))
		return
	}
	s.schedule(old, flagAdopt)
}

// unpark lets a parked c go on as itself, answering it first.
func (s *Server[S]) unpark(c *Conn[S], answer []byte) {
	c.mu.Lock()
	if c.state == stateParked {
		c.state = stateOpen
	}
	c.mu.Unlock()
	c.Send(answer)
	s.schedule(c, flagRead)
}

// Withdraw takes resumable c out of this server, for its session to go on
// elsewhere: on c's worker, c's socket, if still open, is closed with 1008,
// and c is forgotten without Closed. It returns c's frames numbered above
// after and its count of client messages read. ok is false when c is gone,
// does not answer within timeout, or no longer holds every frame above after
// (c then ends as an expiry does).
func (s *Server[S]) Withdraw(c *Conn[S], after uint64, timeout time.Duration) (Replay, bool) {
	return s.withdraw(c, after, timeout, false)
}

// Hand is the first half of a Withdraw in two steps: c's socket, if still
// open, is closed with 1008 and c is detached (Options.Detached runs), but
// c stays, in its rooms, keeping its frames, until a Withdraw gives it up
// or it expires. It returns c's numbering (no frames) when c still holds
// every frame above after; ok is false as for Withdraw.
func (s *Server[S]) Hand(c *Conn[S], after uint64, timeout time.Duration) (Replay, bool) {
	return s.withdraw(c, after, timeout, true)
}

func (s *Server[S]) withdraw(c *Conn[S], after uint64, timeout time.Duration, keep bool) (Replay, bool) {
	ch := make(chan withdrawn, 1)
	c.mu.Lock()
	r := c.replayOf()
	if r == nil || r.withdraw != nil || r.adopting != nil || r.raw {
		c.mu.Unlock()
		return Replay{}, false
	}
	r.withdraw, r.after, r.keep = ch, after, keep
	if c.state == stateDetached {
		// No socket, nothing to read: no need to wait for the worker, which
		// for a detached c only ever checks its state under the lock.
		s.finishWithdrawLocked(c, r)
		w := <-ch
		return w.rp, w.ok
	}
	c.mu.Unlock()
	s.schedule(c, flagAdopt)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case w := <-ch:
		return w.rp, w.ok
	case <-t.C:
	}
	c.mu.Lock()
	if r.withdraw == ch { // not taken yet: call it off
		r.withdraw = nil
		c.mu.Unlock()
		return Replay{}, false
	}
	c.mu.Unlock()
	w := <-ch // taken: the answer is on its way
	return w.rp, w.ok
}

// finishWithdrawLocked runs a Withdraw with c.mu held and releases it.
func (s *Server[S]) finishWithdrawLocked(c *Conn[S], r *replay[S]) {
	wasOpen := c.state == stateOpen
	expire := s.withdrawLocked(c, r)
	released := c.state == stateReleased
	handed := wasOpen && c.state == stateDetached && !expire
	c.mu.Unlock()
	if handed && s.onDetached != nil {
		s.onDetached(c)
	}
	if expire {
		s.release(c, 1006)
	} else if released {
		s.finish(c)
	}
}

// withdrawLocked gives c up for Withdraw, on c's worker; the caller holds
// c.mu and gets whether c must now end as an expiry.
func (s *Server[S]) withdrawLocked(c *Conn[S], r *replay[S]) (expire bool) {
	ch, after := r.withdraw, r.after
	r.withdraw = nil
	first := r.next - uint64(len(r.kept))
	ok := (c.state == stateOpen || c.state == stateDetached) && after+1 >= first && after < r.next
	if c.state == stateOpen {
		sockWrite(c.fd, closeFrame(wsframe.ClosePolicy, "session resumed elsewhere"))
		c.detachLocked()
	}
	if !ok {
		ch <- withdrawn{}
		return c.state == stateDetached
	}
	if r.keep {
		ch <- withdrawn{rp: Replay{Next: r.next, Received: r.received}, ok: true}
		return false
	}
	rp := Replay{Next: r.next, Received: r.received, Kept: append([][]byte(nil), r.kept[after+1-first:]...)}
	c.state, c.closedRan = stateReleased, true
	s.replays.Delete(c)
	ch <- withdrawn{rp: rp, ok: true}
	return false
}

// adopt moves the connection waiting to take old's place into old, on
// old's worker, or gives old up for a Withdraw.
func (s *Server[S]) adopt(old *Conn[S]) {
	old.mu.Lock()
	r := old.replayOf()
	if r != nil && r.withdraw != nil {
		s.finishWithdrawLocked(old, r)
		return
	}
	if r == nil || r.adopting == nil {
		old.mu.Unlock()
		return
	}
	c, after, answer := r.adopting, r.after, r.answer
	r.adopting, r.answer = nil, nil
	first := r.next - uint64(len(r.kept))
	ok := (old.state == stateOpen || old.state == stateDetached) && after+1 >= first && after < r.next
	if old.state == stateOpen {
		// Taken over: the client on the old socket hears why.
		sockWrite(old.fd, closeFrame(wsframe.ClosePolicy, "session resumed elsewhere"))
		old.detachLocked()
	}
	ended := !ok && old.state == stateDetached
	received := r.received
	old.mu.Unlock()
	reply := answer(ok, received)
	if !ok {
		s.unpark(c, reply)
		if ended {
			s.release(old, 1006)
		}
		return
	}
	old.mu.Lock()
	c.mu.Lock()
	fd := c.fd
	s.poller.del(int(fd))
	old.fd, c.fd = fd, -1
	old.ip, c.ip = c.ip, nil
	old.out, c.out = c.out, nil
	o := old.outbox()
	skip := int(after + 1 - first)
	for _, f := range append([][]byte{reply}, r.kept[skip:]...) {
		o.wq = append(o.wq, f)
		o.bytes += len(f)
	}
	for i := range r.kept[:skip] {
		r.bytes -= len(r.kept[i])
		r.kept[i] = nil
	}
	r.kept = r.kept[skip:]
	c.state, c.closedRan = stateReleased, true
	var rest []byte
	if c.in != nil {
		rest = c.in.pend
	}
	c.in = nil
	c.mu.Unlock()
	old.state, old.closeCode = stateOpen, 0
	old.lastSeen.Store(s.now())
	if len(rest) > 0 {
		old.input().pend = rest
	}
	err := s.poller.add(int(fd), connEvents, old)
	old.mu.Unlock()
	s.finish(c)
	if err != nil {
		s.schedule(old, flagAbort)
		return
	}
	s.schedule(old, flagRead|flagWrite)
}

// HoldReplay makes c, whose Message is running, go on with a session
// withdrawn elsewhere (rp): frames written to c from now on are numbered
// from rp.Next and kept behind rp's, not written, until ReleaseReplay; so
// the caller can restore the session's rooms before its client hears of it.
func (c *Conn[S]) HoldReplay(rp Replay, budget int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateOpen || c.resumable {
		return ErrClosed
	}
	r := &replay[S]{next: rp.Next, received: rp.Received, budget: budget, holding: true, kept: rp.Kept}
	for _, f := range rp.Kept {
		r.bytes += len(f)
	}
	c.resumable = true
	c.srv.replays.Store(c, r)
	return nil
}

// ReleaseReplay writes first (a frame, not numbered), then every frame held
// since HoldReplay, and lets frames through from then on.
func (c *Conn[S]) ReleaseReplay(first []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.replayOf()
	if r == nil || !r.holding {
		return errNotResumable
	}
	r.holding = false
	if c.state != stateOpen {
		return ErrClosed
	}
	for _, f := range append([][]byte{first}, r.kept...) {
		if err := c.enqueueLocked(f); err != nil {
			return err
		}
	}
	c.flushLocked()
	return nil
}
