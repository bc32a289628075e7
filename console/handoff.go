package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"msgo/framework"
	"msgo/library/cache"
)

// A reload (SIGHUP) hands every connection to a new process started from
// the binary now at msgo's path: see docs/reload.md. The new process finds
// the listeners at fds 3 and 4 and its end of the handoff socket at fd 5.
const (
	handoffEnv = "MSGO_HANDOFF"
	handoffFD  = 5
	// adoptWait bounds the new process's adoption, once it has the state.
	adoptWait = 30 * time.Second
	// cutWait bounds each side's wait for the bus cut-over's markers.
	cutWait = 5 * time.Second
)

// handoffFault breaks a reload on purpose, for the tests that prove a
// failed reload leaves the old process serving; set with
// -ldflags "-X main.handoffFault=...": "crash" (the new process dies after
// adopting, before it answers), "newer-state" (the old process writes a
// state version no binary reads) or "stage-gap" (the old process waits
// between adopting before the pause and the pause: see stageGap).
var handoffFault string

// stageGap is the fault "stage-gap": between staging and the pause it
// waits, up to 20 s, for the file stage-gap-done in the runtime directory,
// which a test writes once it has changed what it means to change then.
func (n *node) stageGap(staged int) {
	n.log.Info("reload: staged before the pause; waiting (test fault)", "staged", staged)
	done := n.cfg.RuntimePath("stage-gap-done")
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(done); err == nil {
			os.Remove(done)
			return
		}
	}
}

// reloadReport is what a reload did, for the log and `msgo reload`.
type reloadReport struct {
	pid     int
	conns   int
	pause   time.Duration
	phases  []any  // how the pause was spent here, for the log
	serving func() // tells the old process it may exit
}

func (r reloadReport) String() string {
	return fmt.Sprintf("%d %d %.1f", r.pid, r.conns, float64(r.pause.Microseconds())/1000)
}

// handOver starts the new process and, once it is built, pauses this one,
// passes it the sockets and the state, and returns when it has adopted
// them: this process must then exit without touching a connection. On an
// error the new process is killed and this one serves on.
func (n *node) handOver(configDir string) (err error) {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	wsf, err := inheritable(n.ws)
	if err != nil {
		return fmt.Errorf("listener fd: %w", err)
	}
	defer wsf.Close()
	mgrf, err := inheritable(n.mgr)
	if err != nil {
		return fmt.Errorf("manager listener fd: %w", err)
	}
	defer mgrf.Close()
	mine, theirs, err := socketPair()
	if err != nil {
		return err
	}
	w, err := newPipe(mine)
	mine.Close()
	if err != nil {
		theirs.Close()
		return err
	}
	defer w.Close()
	args := []string{"start"}
	if configDir != "" {
		args = append(args, "--config", configDir)
	}
	c := exec.Command(exe, args...)
	c.Env = append(os.Environ(), inheritEnv+"=1", handoffEnv+"=1", "MSGO_NODE_ID="+n.cfg.NodeID)
	c.Stdin, c.Stdout, c.Stderr = nil, os.Stdout, os.Stderr
	c.ExtraFiles = []*os.File{wsf, mgrf, theirs}
	err = c.Start()
	theirs.Close()
	if err != nil {
		return fmt.Errorf("start %s: %w", exe, err)
	}
	exited := make(chan struct{})
	go func() { c.Wait(); close(exited) }()
	defer func() {
		if err != nil {
			c.Process.Kill()
			<-exited
		}
	}()

	w.c.SetDeadline(time.Now().Add(readyWait))
	if kind, _, _, err := w.recv(); err != nil || kind != frameReady {
		c.Process.Kill() // if it is alive, it is not getting ready
		<-exited
		return fmt.Errorf("new process %d exited before it was ready (%s; see its log)", c.Process.Pid, c.ProcessState)
	}
	// From now on every manager reply closes its connection, so that by
	// the hold a client that calls often has no idle connection to race.
	n.held.closeAfterReplies(true)
	defer func() {
		if err != nil {
			n.held.closeAfterReplies(false)
		}
	}()
	// Every connection is adopted once before the pause, while this
	// process serves; the pause only brings them up to date.
	w.c.SetDeadline(time.Now().Add(adoptWait))
	staging := time.Now()
	staged, err := stageConns(n.srv, w)
	if err != nil {
		return err
	}
	gens, err := n.stageStore(w)
	if err != nil {
		return err
	}
	stageTook := time.Since(staging)
	if handoffFault == "stage-gap" {
		n.stageGap(len(staged))
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.StopTimeout())
	defer cancel()
	n.srv.DrainStreams(ctx)
	// No collection during the pause: it would take a core from the
	// export and the adoption for garbage a few megabytes large.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	holding := time.Now()
	n.held.hold(ctx)
	// The pause begins: clients were read while the manager's calls were
	// waited for, and are not from here on.
	paused := time.Now()
	defer func() {
		if err != nil {
			n.srv.Thaw()
			n.held.release()
		}
	}()
	if err := n.srv.Freeze(ctx); err != nil {
		return err
	}
	cut, err := n.cutBus()
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			n.srv.ResumeBus() // before Thaw: what it applies is queued
		}
	}()
	quiet := time.Now()
	head := handoffHead{Paused: paused, LastID: n.srv.LastConnID()}
	head.More.Cut, head.More.Detached = cut, n.srv.ExportDetached()
	if head.More.Manager, err = n.manager.CarryMetrics(); err != nil {
		return err
	}
	version := byte(handoffVersion)
	if handoffFault == "newer-state" {
		version++
	}
	w.c.SetDeadline(time.Now().Add(adoptWait))
	// The connections stream in batches: the new process adopts one while
	// this one exports the next. The counters and the memory store are
	// taken meanwhile, on the other core, and go between two batches.
	stored := make(chan storeTaken, 1)
	go func() { stored <- n.takeStore(gens) }()
	var store storeTaken
	pending := true
	sendStore := func(wait bool) error {
		if !pending {
			return nil
		}
		if wait {
			store = <-stored
		} else {
			select {
			case store = <-stored:
			default:
				return nil
			}
		}
		pending = false
		if store.err != nil {
			return store.err
		}
		return w.send(frameStore, store.blob)
	}
	blob, err := head.marshal(version)
	if err != nil {
		return err
	}
	ex, err := func() (exportStats, error) {
		if err := w.send(frameHead, blob); err != nil {
			return exportStats{}, err
		}
		ex, err := exportConns(n.srv.Export(), staged, func(payload []byte, fds []int) error {
			if err := sendStore(false); err != nil {
				return err
			}
			return w.sendConns(frameConns, payload, fds)
		})
		if err == nil {
			err = sendStore(true)
		}
		if err != nil {
			return ex, err
		}
		return ex, w.send(frameEnd, []byte(strconv.Itoa(ex.conns)))
	}()
	sent := time.Now()
	if err != nil {
		// The new process may have stopped reading to say why.
		w.c.SetDeadline(time.Now().Add(time.Second))
	}
	kind, payload, _, rerr := w.recv()
	switch {
	case rerr != nil && err != nil:
		return err
	case rerr != nil:
		select {
		case <-exited:
			return fmt.Errorf("new process %d died before taking over (%s)", c.Process.Pid, c.ProcessState)
		case <-time.After(time.Second):
		}
		return fmt.Errorf("new process %d failed to take over: %w", c.Process.Pid, rerr)
	case kind == frameError:
		return fmt.Errorf("new process %d could not take over: %s", c.Process.Pid, payload)
	case err != nil:
		return err
	case kind != frameOK:
		return fmt.Errorf("new process %d answered %q", c.Process.Pid, kind)
	}
	// Past this point the new process serves, whatever happens to us.
	w.send(frameBye, nil)
	ms := func(a, b time.Time) float64 { return float64(b.Sub(a).Microseconds()) / 1000 }
	// export, encode and send overlap the new process's adoption: their
	// sum is stream_ms; adopt_ms is what the adoption took past it.
	// store_ms (taking the counters and the memory store) overlaps both.
	d := func(t time.Duration) float64 { return float64(t.Microseconds()) / 1000 }
	n.log.Info("handed over", "new_pid", c.Process.Pid, "connections", ex.conns, "state_bytes", len(blob)+ex.bytes+len(store.blob),
		"staged", len(staged), "stage_ms", d(stageTook), "manager_hold_ms", ms(holding, paused), "handlers_ms", ms(paused, quiet), "stream_ms", ms(quiet, sent),
		"export_ms", d(sent.Sub(quiet)-ex.encode-ex.send), "encode_ms", d(ex.encode), "send_ms", d(ex.send),
		"adopt_ms", ms(sent, time.Now()), "store_ms", d(store.took),
		"queued_output_bytes", ex.output, "unhandled_input_bytes", ex.input, "detached_sessions", len(head.More.Detached),
		"memory_store_bytes", store.memory)
	// Exit once the new process serves and told systemd its pid, so that
	// systemd never sees the service without a main process.
	w.c.SetDeadline(time.Now().Add(5 * time.Second))
	w.recv()
	return nil
}

// adopt is the new process's side of handOver: it reports ready, takes the
// sockets and the state, adopts every connection under its old id while
// paused, and returns once the old process let go. Any error leaves the old
// process serving; the caller must then exit without touching the store.
// On success the report's serving must be called once this process serves:
// the old process exits then.
func (n *node) adopt() (reloadReport, error) {
	f := os.NewFile(handoffFD, "handoff")
	if f == nil {
		return reloadReport{}, errors.New("no handoff socket at fd 5")
	}
	w, err := newPipe(f)
	f.Close()
	if err != nil {
		return reloadReport{}, err
	}
	ok := false
	defer func() {
		if !ok {
			w.Close()
		}
	}()
	// Paused from the start: nothing is read or written until the old
	// process has let go.
	n.srv.Freeze(context.Background())
	// The old process cuts the bus over once we are ready: we must hear its
	// markers.
	live, cancel := context.WithTimeout(context.Background(), readyWait)
	defer cancel()
	if err := n.srv.BusLive(live); err != nil {
		return reloadReport{}, err
	}
	if err := w.send(frameReady, nil); err != nil {
		return reloadReport{}, err
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // as in handOver
	head, took, err := n.receive(w)
	if err == nil {
		cut, cancel := context.WithTimeout(context.Background(), cutWait)
		defer cancel()
		err = n.srv.AwaitBus(cut, head.More.Cut)
	}
	if err != nil {
		w.send(frameError, []byte(err.Error()))
		return reloadReport{}, err
	}
	if handoffFault == "crash" {
		os.Exit(3)
	}
	if err := w.send(frameOK, []byte(strconv.Itoa(os.Getpid()))); err != nil {
		return reloadReport{}, err
	}
	answered := time.Now()
	// The old process answers bye, or dies trying: either way it is done.
	w.c.SetDeadline(time.Now().Add(adoptWait))
	w.recv()
	bye := time.Now()
	n.srv.ReleaseBus(head.More.Cut)
	n.srv.Thaw()
	pause := time.Since(head.Paused)
	n.srv.Metrics().ReloadPaused(pause)
	ok = true
	serving := func() { w.send(frameServing, nil); w.Close() }
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	// From the pause's start to the answer, then the wait for bye, then
	// the bus's held pushes and the thaw.
	phases := []any{"taken_ms", ms(answered.Sub(head.Paused)), "bye_ms", ms(bye.Sub(answered)), "thaw_ms", ms(time.Since(bye))}
	return reloadReport{pid: os.Getpid(), conns: took, pause: pause, phases: phases, serving: serving}, nil
}

// storeTaken is the counters and the memory store, encoded for the new
// process.
type storeTaken struct {
	blob   []byte
	memory int // bytes of it that are the memory store
	took   time.Duration
	err    error
}

// stageStore sends the memory store, if that is the store, before the
// pause; the pause sends only the shards written to since.
func (n *node) stageStore(w *pipe) (cache.Gens, error) {
	mem, ok := n.store.(*cache.Memory)
	if !ok {
		return nil, nil
	}
	snap, gens := mem.Snapshot(nil)
	return gens, w.send(frameStageStore, snap)
}

func (n *node) takeStore(gens cache.Gens) storeTaken {
	t := time.Now()
	var st handoffStore
	var err error
	if st.Metrics, err = n.srv.Metrics().Carry(); err != nil {
		return storeTaken{err: err}
	}
	if mem, ok := n.store.(*cache.Memory); ok {
		st.Memory, _ = mem.Snapshot(gens)
	}
	return storeTaken{blob: st.marshal(), memory: len(st.Memory), took: time.Since(t)}
}

// receive adopts the connections staged before the pause, then takes the
// head of the state, the connections again, the counters and the memory
// store as they come, and returns how many connections it holds. On an
// error the sockets not adopted are closed.
func (n *node) receive(w *pipe) (head handoffHead, took int, err error) {
	staged := newAdopter(n.srv)
	early := make(chan error, 1) // the memory store as staged, restored
	early <- nil
	kind, payload, fds, err := w.recv()
	for err == nil && !staged.failed() && (kind == frameStage || kind == frameStageStore) {
		if kind == frameStage {
			staged.add(payload, fds)
		} else if early, err = n.restoreMemory(payload, nil); err != nil {
			break
		}
		kind, payload, fds, err = w.recv()
	}
	closeAll(fds) // none are expected with the head
	if _, serr := staged.wait(); serr != nil {
		return head, 0, fmt.Errorf("adopting before the pause: %w", serr)
	}
	switch {
	case err != nil:
		return head, 0, err
	case kind != frameHead:
		return head, 0, fmt.Errorf("handoff: frame %q before the state", kind)
	}
	if err := head.unmarshal(payload); err != nil {
		return head, 0, err
	}
	if err := n.manager.SeedMetrics(head.More.Manager); err != nil {
		return head, 0, err
	}
	// The store is restored on a core of its own while the connections
	// arrive: adopting one writes nothing to the store.
	var restored chan error
	a := newAdopter(n.srv)
	fail := func(err error) (handoffHead, int, error) {
		a.wait()
		if restored != nil {
			<-restored
		}
		return head, 0, err
	}
	for !a.failed() {
		kind, payload, fds, err := w.recv()
		if kind != frameConns || err != nil {
			closeAll(fds)
		}
		switch {
		case err != nil:
			return fail(err)
		case kind == frameConns:
			a.add(payload, fds)
		case kind == frameStore && restored == nil:
			if restored, err = n.restore(payload, early); err != nil {
				return fail(err)
			}
		case kind == frameEnd && restored != nil:
			took, err := a.wait()
			// Before the detached sessions: one may have the id of a
			// connection staged while it was open.
			discarded := a.discardStale(staged)
			n.log.Info("reload: connections adopted before the pause", "staged", len(staged.ids), "closed_meanwhile", discarded)
			errs := []error{err, <-restored}
			for _, d := range head.More.Detached {
				errs = append(errs, n.srv.AdoptDetached(d))
			}
			n.srv.ReserveConnIDs(head.LastID)
			if err := errors.Join(errs...); err != nil {
				return head, took, err
			}
			if want, err := strconv.Atoi(string(payload)); err != nil || want != took {
				return head, took, fmt.Errorf("%d connections adopted, %s sent", took, payload)
			}
			return head, took, nil
		default:
			return fail(fmt.Errorf("handoff: unexpected frame %q", kind))
		}
	}
	// Some sockets are the server's now; the process exits anyway.
	_, err = a.wait()
	return fail(err)
}

// stageConns passes every connection of srv, which serves, to the new
// process with a duplicate of its socket, and returns their ids: in the
// pause they go again without it.
func stageConns(srv *framework.Server, w *pipe) (map[framework.ConnID]bool, error) {
	staged := make(map[framework.ConnID]bool, srv.Connections())
	conns := func(yield func(framework.Moving) bool) {
		for m := range srv.Stage() {
			staged[m.ID] = true
			if !yield(m) {
				return
			}
		}
	}
	_, err := exportConns(conns, nil, func(payload []byte, fds []int) error {
		defer closeAll(fds)
		return w.sendConns(frameStage, payload, fds)
	})
	return staged, err
}

// restore seeds the counters and starts restoring the memory store's
// shards written to since staging, once early (the restore of the store as
// staged) is done; the channel gets the result.
func (n *node) restore(payload []byte, early chan error) (chan error, error) {
	var st handoffStore
	if err := st.unmarshal(payload); err != nil {
		return nil, err
	}
	if err := n.srv.Metrics().Seed(st.Metrics); err != nil {
		return nil, err
	}
	if st.Memory == nil {
		return early, nil
	}
	return n.restoreMemory(st.Memory, early)
}

// restoreMemory starts restoring a snapshot of the memory store, after
// after (if not nil) succeeded; the channel gets the result.
func (n *node) restoreMemory(snap []byte, after chan error) (chan error, error) {
	mem, ok := n.store.(*cache.Memory)
	if !ok {
		return nil, errors.New("the old process used the memory store, this one does not")
	}
	done := make(chan error, 1)
	go func() {
		if after != nil {
			if err := <-after; err != nil {
				done <- err
				return
			}
		}
		done <- mem.Restore(snap)
	}()
	return done, nil
}

// cutBus cuts the bus over (see framework.Server.CutBus), bounded by
// cutWait: a marker that does not come back fails the reload.
func (n *node) cutBus() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cutWait)
	defer cancel()
	return n.srv.CutBus(ctx)
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd) // not through os.File, which would poll it first
	}
}
